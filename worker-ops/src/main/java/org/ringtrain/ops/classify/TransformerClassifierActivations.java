/*
 * TransformerClassifierActivations: every array of the Transformer classifier for one (B, T', rows)
 * batch shape: the trunk's (TransformerActivations, token-wise arrays padded [B*T', C] or packed
 * [R, C]) and the classifier's own (key padding mask, pooling weights, pooled rows, their
 * gradients), taken from an Arena sized for the largest batch seen. It computes nothing;
 * TransformerClassifier fills and reads it.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.Arena;
import org.ringtrain.ops.transformer.TransformerActivations;

/**
 * {@link #carve} lays the arrays out for a batch shape; any (B, T') with B &lt;= the capacity's
 * batch and T' &lt;= maxLen fits, because every array grows with B and T'.
 */
final class TransformerClassifierActivations extends BatchActivations {

  private final boolean packed;
  INDArray mask; // [B, 1, 1, T'] 0 for tokens, Attention.MASKED for padded keys
  TransformerActivations trunk;

  /**
   * Activations for batches of up to {@code capacityBatch} rows of up to maxLen tokens, with
   * packed token rows (poolWeights [B, R]) or padded ones (poolWeights [B*T']).
   */
  TransformerClassifierActivations(ClassifierConfig config, int capacityBatch, DataType dataType, boolean packed) {
    super(config, capacityBatch, dataType);
    this.packed = packed;
    allocate();
  }

  @Override
  void carveInto(Arena a, int b, int t, int r) {
    long c = config.dModel();
    mask = a.take(b, 1, 1, t);
    poolWeights = packed ? a.take(b, r) : a.take((long) b * t);
    trunk = new TransformerActivations(a, ones, r, b, t, config.layers(), c, config.heads(), false, packed);
  }
}
