/**
 * The Transformer block, written once for every model built of it: its table of tensor names and
 * shapes ({@link org.ringtrain.ops.transformer.BlockTensors}), its forward/backward pair
 * ({@link org.ringtrain.ops.transformer.TransformerBlock}, causal or padding mask), its activation
 * scheme (carved from an Arena per batch shape), the trunk of L blocks + final LayerNorm, and the
 * GPT-2 initialisation rule. Models (the GPT decoder, the Transformer classifier) add only their
 * embeddings and heads. Must not import model-specific packages (gpt, classify), Spark or the ring.
 *
 * <p>Stability: internal to worker-ops.
 */
package org.ringtrain.ops.transformer;
