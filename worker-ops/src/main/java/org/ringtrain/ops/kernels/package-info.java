/**
 * Fused float32 kernels for the memory-bound work between the matmuls (layer norm, GELU, the
 * attention softmax, the loss, AdamW): each is one or two passes over memory, a plain indexed loop
 * over the arrays' off-heap buffers with the Vector API ({@code jdk.incubator.vector}), split over
 * rows on the rank's threads by {@link org.ringtrain.ops.kernels.Parallel}. The LSTM's time steps
 * use two more: its element-wise cell ({@link org.ringtrain.ops.kernels.LstmCellKernel}) and the
 * per-step recurrent product on row ranges without ND4J views ({@link org.ringtrain.ops.kernels.RowGemm}).
 * Attention's per-head products are direct cblas_sgemm calls on strided operands
 * ({@link org.ringtrain.ops.kernels.HeadGemm}), which read and write the token-major activations
 * without layout copies. The decode step's attention, every row against its own KV cache up to
 * its own position, is one kernel ({@link org.ringtrain.ops.kernels.DecodeAttentionKernel}) that
 * the gpt package's decoders call directly, with layers.CachedAttention as their ND4J path.
 * {@link org.ringtrain.ops.kernels.PairKernel} is the same-shape sum and
 * product (residual adds, GELU's output recompute) without an ND4J op's dispatch, and
 * {@link org.ringtrain.ops.kernels.EmbeddingKernel} the encoder's lookup and token gradient.
 *
 * <p>The layers in {@code org.ringtrain.ops.layers} call these kernels when {@link
 * org.ringtrain.ops.kernels.Fused#accepts} says they apply (float32, dense row-major arrays, the
 * JVM started with {@code --add-modules=jdk.incubator.vector}) and otherwise run their ND4J
 * composition, which stays the float64 path of the gradient checks and the reference these kernels
 * are tested against. Every result element is computed by one thread with the same code whatever
 * the thread count, so results do not depend on the number of threads. DropoutKernel is the one
 * kernel without the Vector API (its work is integer hashing) and runs in float32 and float64 alike.
 *
 * <p>Must not import layers, transformer or the model packages (they call it), Spark or the ring.
 *
 * <p>Stability: internal to worker-ops.
 */
package org.ringtrain.ops.kernels;
