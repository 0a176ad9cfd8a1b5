// Turns "these gradients are final" notices from backward into all-reduce
// buckets of about bucketBytes, submitted at once so the ring works while
// backward goes on (PyTorch DDP's scheme; Li et al., "PyTorch Distributed",
// VLDB 2020). Backward finishes the flat buffer from its end towards its start,
// so ranges arrive contiguous and descending; bucket boundaries depend only on
// the layout and the bucket size, so every rank issues the same collectives.
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
  private final List<CompletableFuture<Void>> inFlight = new ArrayList<>();
  private final List<Bucket> submitted = new ArrayList<>();
  private long readyFrom;
  private long pendingTo;
  private long firstSubmitNanos;
  private volatile long lastDoneNanos;

  GradientBuckets(RingCommunicator ring, ByteBuffer grads, long totalElements, long bucketBytes) {
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
    for (CompletableFuture<Void> f : inFlight) {
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

  /** Milliseconds from the first bucket's submission to the last one's completion (the ring's busy span). */
  double commSpanMs() {
    return inFlight.isEmpty() ? 0 : (lastDoneNanos - firstSubmitNanos) / 1e6;
  }

  private void submit(long from, long to) {
    if (inFlight.isEmpty()) {
      firstSubmitNanos = System.nanoTime();
    }
    inFlight.add(ring.allReduceAsync(grads, Math.toIntExact(from), Math.toIntExact(to - from), ReduceOp.AVERAGE)
        .whenComplete((v, e) -> lastDoneNanos = System.nanoTime()));
    submitted.add(new Bucket(from, to));
    pendingTo = from;
  }
}
