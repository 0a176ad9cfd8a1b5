/**
 * Generic machinery for any model's parameters: the ordered table of named tensors
 * (ParameterLayout), the flat parameter and gradient buffers (ParameterBuffer), the model contract
 * the trainer drives (TrainableModel, GradientListener), the seeded RNG (SplitMix64), rule-based
 * initialisation (ParameterInit) and the arena that carves activation views (Arena).
 *
 * <p>Owns no model. Must not import gpt, classify, transformer, layers or optim (they build on it),
 * Spark, Hadoop or the ring. Stability: ParameterLayout, ParameterBuffer and TrainableModel are the
 * contract the optimizers, the all-reduce and checkpointing code against; the rest is internal.
 */
package org.ringtrain.ops.param;
