/**
 * The GPT-2 style decoder: its validated configuration, the ordered table of parameter tensors,
 * the flat parameter and gradient buffers, seeded initialisation, the model's forward and backward
 * passes and KV-cache generation.
 *
 * <p>Stability: {@link org.ringtrain.ops.model.ModelConfig} and
 * {@link org.ringtrain.ops.model.ParameterLayout} are the contract the optimizers, the all-reduce
 * and checkpointing code against; the rest is internal to ringtrain.
 */
package org.ringtrain.ops.model;
