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
  INDArray poolWeights; // [B*T'] 1/len or 0, in the subclass's token order
  INDArray pooled; // [B, C] the masked mean the head reads
  INDArray logits; // [B, K]
  INDArray probs; // [B, K]
  INDArray dlogits; // [B, K]
  INDArray dpooled; // [B, C]

  BatchActivations(ClassifierConfig config, int capacityBatch, DataType dataType) {
    this.config = config;
    this.capacityBatch = capacityBatch;
    this.arena = new Arena(dataType);
  }

  /** Allocates for the capacity; the subclass constructor calls it last, once its own fields are set. */
  final void allocate() {
    carveAll(arena, capacityBatch, config.maxLen()); // the sizing pass allocates
    tokenStore = Nd4j.create(DataType.INT32, (long) capacityBatch * config.maxLen());
  }

  /** Lays the arrays out for a batch of B rows and T' steps (B at most the capacity). */
  final void carve(int b, int t) {
    if (b == batch && t == steps) {
      return; // the views of the last carving still fit
    }
    arena.reset();
    carveAll(arena, b, t);
    tokens = tokenStore.get(NDArrayIndex.interval(0, (long) b * t));
    ones.assign(1.0);
    batch = b;
    steps = t;
  }

  /** Takes the subclass's arrays of a (b, t) batch from {@code a}; the pooling head's are taken already. */
  abstract void carveInto(Arena a, int b, int t);

  /** The arrays both classifiers' pooling head uses, then the subclass's. */
  private void carveAll(Arena a, int b, int t) {
    long n = (long) b * t;
    long c = config.dModel();
    long k = config.numClasses();
    ones = a.take(1, n);
    poolWeights = a.take(n);
    pooled = a.take(b, c);
    logits = a.take(b, k);
    probs = a.take(b, k);
    dlogits = a.take(b, k);
    dpooled = a.take(b, c);
    carveInto(a, b, t);
  }

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
