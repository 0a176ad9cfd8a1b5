/*
 * DecodeSlot: one sequence's decoding state for a batched decoder - its own KV cache (sized to
 * the sequence, with its own length and mask) and, on the ND4J path, its attention scratch. It
 * computes nothing and is not shared between sequences.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The KV cache of one sequence ([1, NH, capacity, HS] per block and kind) and, where attention
 * runs as ND4J ops (float64), its scores scratch ([1, NH, 1, capacity]). Sequences at different
 * positions sit in different slots, so a batched step attends each row over its own prefix only.
 */
public final class DecodeSlot implements AutoCloseable {
  final KvCache cache;
  private final ModelConfig config;
  private INDArray scores; // [1, NH, 1, capacity], made on the ND4J path's first use

  DecodeSlot(ModelConfig config, int capacity, DataType type) {
    this.config = config;
    cache = new KvCache(config, 1, capacity, type);
  }

  /** The ND4J path's attention scores scratch, [1, NH, 1, capacity]. */
  INDArray scores() {
    if (scores == null) {
      scores = Nd4j.create(cache.maskRow.dataType(), 1, config.heads(), 1, cache.capacity());
    }
    return scores;
  }

  /** Positions fed so far; the next token goes to this position. */
  public int position() {
    return cache.length();
  }

  /** Most positions this slot holds. */
  public int capacity() {
    return cache.capacity();
  }

  @Override
  public void close() {
    cache.close();
    if (scores != null) {
      scores.close();
    }
  }
}
