/**
 * Optimizers over the whole flat parameter buffer (AdamW, SGD with momentum), global-norm gradient
 * clipping, the warm-up plus cosine learning-rate schedule, and the checkpoint format of optimizer
 * state. Gradient accumulation over micro-batches is the training loop's: the model's backward
 * adds into the gradient buffer, and the loop divides it by the number of micro-batches.
 *
 * <p>Every update is a handful of ND4J vector ops on the entire buffer: parameters, gradients and
 * moments are 1-D float32 arrays with the identical {@link org.ringtrain.ops.model.ParameterLayout},
 * and per-tensor work is limited to weight decay on the ranges of the 2-D tensors.
 *
 * <p>Stability: internal to ringtrain; the driver's training loop is its only user.
 */
package org.ringtrain.ops.optim;
