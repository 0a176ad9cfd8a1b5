/*
 * BatchActivations: what both classifiers' activation holders share: an Arena sized once for the
 * largest batch, the int32 token store, and the re-carving of every array as views for a new
 * (B, T') batch shape. Subclasses only list their arrays in carveInto. It computes nothing.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.param.Arena;

/**
 * Activations for batches of up to {@link #capacityBatch} rows of up to maxLen tokens. Any
 * (B, T') with B at most the capacity and T' at most maxLen fits, because every array grows with
 * B and T'.
 */
abstract class BatchActivations implements AutoCloseable {

  final int capacityBatch;
  final ClassifierConfig config;
  private final Arena arena;
  private INDArray tokenStore; // [Bcap*maxLen] int32
  int batch;
  int steps;

  INDArray tokens; // [B*T'] int32, in the subclass's order
  INDArray ones; // [1, B*T']
  INDArray logits; // [B, K]
  INDArray probs; // [B, K]

  BatchActivations(ClassifierConfig config, int capacityBatch, DataType dataType) {
    this.config = config;
    this.capacityBatch = capacityBatch;
    this.arena = new Arena(dataType);
  }

  /** Allocates for the capacity; the subclass constructor calls it last, once its own fields are set. */
  final void allocate() {
    carveInto(arena, capacityBatch, config.maxLen()); // the sizing pass allocates
    tokenStore = Nd4j.create(DataType.INT32, (long) capacityBatch * config.maxLen());
  }

  /** Lays the arrays out for a batch of B rows and T' steps (B at most the capacity). */
  final void carve(int b, int t) {
    if (b == batch && t == steps) {
      return; // the views of the last carving still fit
    }
    arena.reset();
    carveInto(arena, b, t);
    tokens = tokenStore.get(NDArrayIndex.interval(0, (long) b * t));
    ones.assign(1.0);
    batch = b;
    steps = t;
  }

  /** Takes every array of a (b, t) batch from {@code a}, {@link #ones}, {@link #logits} and {@link #probs} included. */
  abstract void carveInto(Arena a, int b, int t);

  /** Off-heap bytes held. */
  final long bytes() {
    return arena.bytes() + tokenStore.length() * 4;
  }

  @Override
  public final void close() {
    arena.close();
    if (tokenStore != null && !tokenStore.wasClosed()) {
      tokenStore.close();
    }
  }
}
