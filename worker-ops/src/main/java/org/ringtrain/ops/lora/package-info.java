/**
 * Low-rank adaptation (LoRA, Hu et al. 2021, https://arxiv.org/abs/2106.09685) of a frozen GPT:
 * LoraConfig (rank, alpha, target layers), LoraAdapters (the adapters' own flat layout and their
 * forward/backward beside the blocks' linear layers), LoraModel (a TrainableModel whose trainable
 * buffer holds only the adapters, and the merge that folds them back into plain GPT-2 weights).
 *
 * <p>Must not import classify, Spark, Hadoop or the ring.
 * Stability: LoraConfig and LoraModel are used by the driver; the rest is internal.
 */
package org.ringtrain.ops.lora;
