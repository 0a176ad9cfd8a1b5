/**
 * Int8 weight-only quantisation of a trained GPT for inference: the scheme (Int8Matrix:
 * symmetric, one float32 scale per output channel), the matmul on int8 weights (Int8Matmul), the
 * quantised model's weights behind the Generator's GptWeights interface (Int8GptWeights) and its
 * safetensors file (Int8ModelFile). Nothing here trains.
 *
 * <p>Must not import classify, Spark, Hadoop or the ring. Stability: Int8ModelFile, Int8GptWeights
 * and Int8Matmul.Path are used by the driver and the benchmark; the rest is internal.
 */
package org.ringtrain.ops.quant;
