/**
 * The int8 quantisation benchmark (bench/quantize.sh): file size, held-out loss and batch-1
 * generation speed of a checkpoint in float32 and int8, side by side in one run.
 *
 * <p>Stability: internal; not shipped.
 */
package org.ringtrain.bench.quant;
