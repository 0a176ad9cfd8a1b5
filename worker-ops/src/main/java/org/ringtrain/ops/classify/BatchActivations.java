/*
 * BatchActivations: what both classifiers' activation holders share: an Arena sized once for the
 * largest batch, the int32 token ids, and the re-carving of every array as views for a new
 * (B, T', rows) batch shape. Subclasses only list their arrays in carveInto. It computes nothing.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.Arena;

/**
 * Activations for batches of up to {@link #capacityBatch} rows of up to maxLen tokens. Any
 * (B, T') with B at most the capacity and T' at most maxLen fits, because every array grows with
 * B and T'. Token-wise arrays have {@code rows} rows: B*T' for the padded layouts, fewer for
 * packed rows (org.ringtrain.ops.layers.PackedRows), never more.
 */
abstract class BatchActivations implements AutoCloseable {

  final int capacityBatch;
  final ClassifierConfig config;
  private final Arena arena;
  private final Arena ids; // int32: the token ids
  int batch;
  int steps;
  int rows;

  INDArray tokens; // [rows] int32, in the subclass's order
  INDArray ones; // [1, rows]
  INDArray poolWeights; // taken by the subclass: 1/len or 0 per token, in its token order
  INDArray pooled; // [B, C] the masked mean the head reads
  INDArray logits; // [B, K]
  INDArray probs; // [B, K]
  INDArray dlogits; // [B, K]
  INDArray dpooled; // [B, C]

  BatchActivations(ClassifierConfig config, int capacityBatch, DataType dataType) {
    this.config = config;
    this.capacityBatch = capacityBatch;
    this.arena = new Arena(dataType);
    this.ids = new Arena(DataType.INT32);
  }

  /** Allocates for the capacity; the subclass constructor calls it last, once its own fields are set. */
  final void allocate() {
    int most = capacityBatch * config.maxLen();
    carveAll(arena, capacityBatch, config.maxLen(), most); // the sizing pass allocates
    ids.take(most);
  }

  /** Lays the arrays out for a batch of B rows and T' steps (B at most the capacity), B*T' token rows. */
  final void carve(int b, int t) {
    carve(b, t, b * t);
  }

  /** Lays the arrays out for a batch of B rows, T' steps and {@code r} (at most B*T') token rows. */
  final void carve(int b, int t, int r) {
    if (b == batch && t == steps && r == rows) {
      return; // the views of the last carving still fit
    }
    arena.reset();
    carveAll(arena, b, t, r);
    ids.reset();
    tokens = ids.take(r);
    ones.assign(1.0);
    batch = b;
    steps = t;
    rows = r;
  }

  /**
   * Takes the subclass's arrays of a (b, t) batch of {@code r} token rows from {@code a}, the pooling
   * weights among them; the head's are taken already.
   */
  abstract void carveInto(Arena a, int b, int t, int r);

  /** The arrays both classifiers' pooling head uses, then the subclass's. */
  private void carveAll(Arena a, int b, int t, int r) {
    long c = config.dModel();
    long k = config.numClasses();
    ones = a.take(1, r);
    pooled = a.take(b, c);
    logits = a.take(b, k);
    probs = a.take(b, k);
    dlogits = a.take(b, k);
    dpooled = a.take(b, c);
    carveInto(a, b, t, r);
  }

  /** Off-heap bytes held. */
  final long bytes() {
    return arena.bytes() + ids.bytes();
  }

  @Override
  public final void close() {
    arena.close();
    ids.close();
  }
}
