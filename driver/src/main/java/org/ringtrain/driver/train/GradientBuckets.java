// Turns "these gradients are final" notices from backward into all-reduce
// buckets of about bucketBytes, submitted at once so the ring works while
// backward goes on (PyTorch DDP's scheme; Li et al., "PyTorch Distributed",
// VLDB 2020). Backward finishes the flat buffer from its end towards its start,
// so ranges arrive contiguous and descending; bucket boundaries depend only on
// the layout and the bucket size, so every rank issues the same collectives.
// With a sharded optimizer each bucket is only reduce-scattered (each rank then
// owns the finished chunk the ring assigns it) and the parameters are
// all-gathered over the same buckets after the update.
package org.ringtrain.driver.train;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.ringtrain.sync.ReduceOp;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingException;

/** Buckets of one backward pass; make a new one per optimizer step. */
final class GradientBuckets {
  /** One submitted all-reduce: the float range [from, to) of the gradient buffer. */
  record Bucket(long from, long to) {
  }

  private final RingCommunicator ring;
  private final ByteBuffer grads;
  private final long bucketElements;
  private final boolean scatterOnly;
  private final List<CompletableFuture<Void>> inFlight = new ArrayList<>();
  private final List<Bucket> submitted = new ArrayList<>();
  private long readyFrom;
  private long pendingTo;
  private long firstSubmitNanos;
  private volatile long lastDoneNanos;

  GradientBuckets(RingCommunicator ring, ByteBuffer grads, long totalElements, long bucketBytes) {
    this(ring, grads, totalElements, bucketBytes, false);
  }

  /**
   * @param scatterOnly reduce-scatter each bucket instead of all-reducing it (sharded optimizer):
   *                    after {@link #finish()} only this rank's {@link #ownedRanges owned ranges}
   *                    hold averaged gradients
   */
  GradientBuckets(RingCommunicator ring, ByteBuffer grads, long totalElements, long bucketBytes,
      boolean scatterOnly) {
    this.scatterOnly = scatterOnly;
    this.ring = ring;
    this.grads = grads;
    this.bucketElements = Math.max(1, bucketBytes / Float.BYTES);
    this.readyFrom = totalElements;
    this.pendingTo = totalElements;
  }

  /** Gradients in [from, to) are final; {@code to} must be where the previous range began. */
  void ready(long from, long to) {
    if (to != readyFrom || from > to) {
      throw new IllegalStateException("gradient ranges must arrive contiguous from the end of the buffer: got ["
          + from + ", " + to + ") after [" + readyFrom + ", ...)");
    }
    readyFrom = from;
    if (pendingTo - readyFrom >= bucketElements) {
      submit(readyFrom, pendingTo);
    }
  }

  /**
   * Submits what is left (the start of the buffer) and waits for every bucket. Refuses a backward
   * that did not report the buffer down to element 0: the unreported start would never be
   * averaged, and the replicas would drift apart without any other error.
   */
  void finish() throws RingException {
    if (readyFrom != 0) {
      throw new IllegalStateException("backward reported gradients down to element " + readyFrom + " only;"
          + " elements [0, " + readyFrom + ") were never reported ready, so they would not be averaged across"
          + " ranks. A model's backward must report every range of its gradient buffer down to 0"
          + " (GradientListener)");
    }
    if (pendingTo > readyFrom) {
      submit(readyFrom, pendingTo);
    }
    await(inFlight);
  }

  private static void await(List<CompletableFuture<Void>> futures) throws RingException {
    for (CompletableFuture<Void> f : futures) {
      try {
        f.join();
      } catch (java.util.concurrent.CompletionException e) {
        if (e.getCause() instanceof RingException re) {
          throw re;
        }
        throw e;
      }
    }
  }

  /** Buckets submitted so far. */
  int buckets() {
    return inFlight.size();
  }

  /** The buckets submitted so far, in submission order: from the end of the buffer towards its start. */
  List<Bucket> submitted() {
    return List.copyOf(submitted);
  }

  /**
   * The element ranges of the flat buffer this rank owns after the reduce-scatter of the buckets
   * submitted so far, ascending, as {starts, ends}; the same every step, since the buckets are.
   */
  long[][] ownedRanges() {
    int n = submitted.size();
    long[] starts = new long[n];
    long[] ends = new long[n];
    for (int i = 0; i < n; i++) {
      Bucket b = submitted.get(n - 1 - i); // submitted from the end of the buffer: reverse to ascend
      RingCommunicator.Range r = ring.ownedRange(Math.toIntExact(b.to() - b.from()));
      starts[i] = b.from() + r.start();
      ends[i] = b.from() + r.end();
    }
    return new long[][] {starts, ends};
  }

  /**
   * All-gathers {@code buffer} (the flat parameters, after a sharded update) over the same buckets:
   * every rank's owned ranges reach every rank, exact float32. Waits for all of them.
   */
  void allGather(ByteBuffer buffer) throws RingException {
    List<CompletableFuture<Void>> gathers = new ArrayList<>();
    for (Bucket b : submitted) {
      gathers.add(ring.allGatherAsync(buffer, Math.toIntExact(b.from()), Math.toIntExact(b.to() - b.from())));
    }
    await(gathers);
  }

  /** Milliseconds from the first bucket's submission to the last one's completion (the ring's busy span). */
  double commSpanMs() {
    return inFlight.isEmpty() ? 0 : (lastDoneNanos - firstSubmitNanos) / 1e6;
  }

  private void submit(long from, long to) {
    if (inFlight.isEmpty()) {
      firstSubmitNanos = System.nanoTime();
    }
    int offset = Math.toIntExact(from);
    int count = Math.toIntExact(to - from);
    CompletableFuture<Void> sync = scatterOnly ? ring.reduceScatterAsync(grads, offset, count, ReduceOp.AVERAGE)
        : ring.allReduceAsync(grads, offset, count, ReduceOp.AVERAGE);
    inFlight.add(sync.whenComplete((v, e) -> lastDoneNanos = System.nanoTime()));
    submitted.add(new Bucket(from, to));
    pendingTo = from;
  }
}
