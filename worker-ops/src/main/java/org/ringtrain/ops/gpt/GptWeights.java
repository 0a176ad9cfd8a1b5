/*
 * GptWeights: what inference needs from a GPT's weights, whatever their storage: float32 views of
 * a trained model's flat buffer (FloatGptWeights) or int8 matrices with per-channel scales
 * (ops.quant.Int8GptWeights). The Generator, and through it generation, evaluation and serving,
 * runs on this interface. It is not a training interface: nothing here has a gradient.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The weights of a GPT-2 decoder for inference, by Hugging Face GPT-2 tensor names (see
 * {@link GptModel#layout}). Implementations own their memory; close them when done. Not
 * thread-safe: an implementation may keep scratch for one caller thread.
 */
public interface GptWeights extends AutoCloseable {

  /** The model's shape. */
  ModelConfig config();

  /**
   * A float32 tensor that is not a matmul weight: a layer norm's weight or bias, by name, e.g.
   * {@code h.0.ln_1.weight} or {@code ln_f.bias}.
   */
  INDArray norm(String name);

  /**
   * {@code out[R, OC] = inp[R, IC] @ weight + bias} for the named linear layer of a block, e.g.
   * {@code h.0.attn.c_attn} (its {@code .weight} [IC, OC] and {@code .bias} [OC]).
   */
  void linear(INDArray out, INDArray inp, String layer);

  /** {@code out[B, C] = wte[tokens[b]] + wpe[pos]}: the embedding of one position of B sequences. */
  void embed(INDArray out, INDArray tokens, int batch, int pos);

  /**
   * {@code out[i] = wte[tokens[i]] + wpe[positions[i]]} for i in [0, n): rows of sequences each at
   * its own position (continuous batching). {@code out} is [n, C], contiguous.
   */
  void embedRows(INDArray out, int[] tokens, int[] positions, int n);

  /** {@code logits[R, V] = inp[R, C] @ wte^T}: the LM head tied to the token embedding. */
  void lmHead(INDArray logits, INDArray inp);

  /** Frees what this object allocated (never the memory of a model it only views). */
  @Override
  void close();
}
