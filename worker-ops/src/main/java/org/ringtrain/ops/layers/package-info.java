/**
 * The layers of a GPT-2 decoder as explicit forward/backward function pairs on ND4J arrays, in
 * llm.c's argument order (outputs, inputs, weights, scratch, sizes). Every backward accumulates
 * into the parameter gradients it is given (dweight, dbias, dwte, dwpe), and only the model that
 * owns them zeroes them. Input gradients (dinp) are overwritten, as in llm.c's CUDA trainer, which
 * saves zeroing scratch every step. The exceptions add into dinp because their input is the
 * residual stream, whose gradient sums both branches of a block: LayerNorm and Residual.
 *
 * <p>Every function works in the data type of the arrays it gets (float32 in training, float64 in
 * the gradient checks) and allocates no off-heap memory: callers pass every output and scratch
 * array, preallocated once per shape. In float32 the memory-bound work runs as the fused kernels
 * of {@code org.ringtrain.ops.kernels}; each layer with such a kernel keeps its ND4J composition
 * as {@code forwardNd4j}/{@code backwardNd4j}, the float64 path and the kernels' reference.
 *
 * <p>Stability: internal to worker-ops.
 */
package org.ringtrain.ops.layers;
