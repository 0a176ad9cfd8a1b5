/**
 * The layers of a GPT-2 decoder as explicit forward/backward function pairs on ND4J arrays, in
 * llm.c's argument order (outputs, inputs, weights, scratch, sizes); every backward accumulates into
 * the gradient arrays it is given, and the model that owns them zeroes them.
 *
 * <p>Every function works in the data type of the arrays it gets (float32 in training, float64 in
 * the gradient checks) and allocates no off-heap memory: callers pass every output and scratch
 * array, preallocated once per shape.
 *
 * <p>Stability: internal to worker-ops.
 */
package org.ringtrain.ops.layers;
