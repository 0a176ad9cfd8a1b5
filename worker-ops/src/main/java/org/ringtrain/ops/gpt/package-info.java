/**
 * The GPT-2 decoder: its validated shape (ModelConfig), the model (embeddings, a
 * TransformerTrunk with causal attention, the tied LM head, GptModel.layout with Hugging Face names),
 * its activations, KV-cache generation and sampling.
 *
 * <p>Must not import classify (a sibling model), Spark, Hadoop or the ring.
 * Stability: ModelConfig, GptModel and Generator are used by the driver; the rest is internal.
 */
package org.ringtrain.ops.gpt;
