// Which of a rank's sequences form each micro-batch: a fresh permutation per
// epoch, seeded by (seed, epoch, rank), walked with a cursor. (epoch, cursor)
// is all a checkpoint needs to continue the exact same order after a resume.
package org.ringtrain.driver.train;

import java.util.SplittableRandom;

/** Deterministic, resumable micro-batch order over {@code count} local sequences. */
final class BatchSampler {
  private final int count;
  private final int batch;
  private final long seed;
  private final int rank;
  private final boolean shuffle;
  private final int[] order;
  private long epoch;
  private int cursor;

  BatchSampler(int count, int batch, long seed, int rank, boolean shuffle, long epoch, long cursor) {
    if (count < batch) {
      throw new IllegalArgumentException("rank " + rank + " holds " + count + " training sequences but one "
          + "micro-batch needs " + batch + "; use a smaller microBatch or contextLength, fewer ranks, or a larger corpus");
    }
    this.count = count;
    this.batch = batch;
    this.seed = seed;
    this.rank = rank;
    this.shuffle = shuffle;
    this.order = new int[count];
    this.epoch = epoch;
    this.cursor = (int) cursor;
    permute();
  }

  /** Indices of the next micro-batch; starts a new epoch when fewer than a batch remain. */
  int[] next() {
    if (cursor + batch > count) {
      epoch++;
      cursor = 0;
      permute();
    }
    int[] picked = new int[batch];
    System.arraycopy(order, cursor, picked, 0, batch);
    cursor += batch;
    return picked;
  }

  long epoch() {
    return epoch;
  }

  long cursor() {
    return cursor;
  }

  private void permute() {
    for (int i = 0; i < count; i++) {
      order[i] = i;
    }
    if (!shuffle) {
      return;
    }
    // Fisher-Yates with a stream only (seed, epoch, rank) determines.
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + rank);
    for (int i = count - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
}
