/**
 * The layers of a Transformer as explicit forward/backward function pairs on ND4J arrays, in
 * llm.c's argument order (outputs, inputs, weights, scratch, sizes). Every backward accumulates into
 * the parameter gradients it is given, and only the model that owns them zeroes them. Input
 * gradients (dinp) are overwritten, except where the input is the residual stream (LayerNorm,
 * Residual), whose gradient sums both branches of a block. Functions work in the arrays' data type
 * (float32 in training, float64 in gradient checks) and allocate no off-heap memory.
 *
 * <p>In float32 the memory-bound work runs as the fused kernels of {@code org.ringtrain.ops.kernels};
 * each layer with such a kernel keeps its ND4J composition as {@code forwardNd4j}/{@code
 * backwardNd4j}, the float64 path and the kernels' reference.
 *
 * <p>Must not import transformer, gpt, classify or optim (they build on it), Spark or the ring.
 * Stability: internal to worker-ops.
 */
package org.ringtrain.ops.layers;
