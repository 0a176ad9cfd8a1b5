// Which training rows each step uses, independent of the number of ranks: one
// permutation of ALL training rows per epoch, seeded by (seed, epoch) only, walked
// by a global cursor one global batch per step. A step's global batch is cut into
// micro-batches of microBatch rows in order; with worldSize ranks and accum
// micro-batches per rank, micro-batch a of rank r is the (a * worldSize + r)-th
// piece. The union of a step's pieces is the global batch whatever worldSize is,
// so (epoch, position) plus the global batch size is all a checkpoint needs to
// continue the exact same samples at any world size. It does not hold rows, only
// their indices in the whole training set (what the model's forward receives).
package org.ringtrain.driver.train;

import java.util.SplittableRandom;

/**
 * Deterministic, resumable, world-size-independent order of global batches over {@code count}
 * training rows.
 */
final class BatchSampler {
  private final int count;
  private final int globalBatch;
  private final long seed;
  private final boolean shuffle;
  private final int[] order;
  private long epoch;
  private int position;

  /**
   * @param count       training rows of the whole run (every rank's rows together)
   * @param globalBatch rows per optimizer step across all ranks and micro-batches
   * @param epoch       epoch to continue, 0 for a fresh run
   * @param position    rows of that epoch's order already used, 0 for a fresh run
   */
  BatchSampler(int count, int globalBatch, long seed, boolean shuffle, long epoch, long position) {
    if (globalBatch < 1) {
      throw new IllegalArgumentException("globalBatch must be >= 1, but found " + globalBatch);
    }
    if (count < globalBatch) {
      throw new IllegalArgumentException("the run holds " + count + " training rows but one step needs a global batch"
          + " of " + globalBatch + " (worldSize x microBatch x gradAccumSteps of the run that started it); use a"
          + " smaller microBatch or gradAccumSteps, fewer ranks, or a larger corpus");
    }
    if (position < 0) {
      throw new IllegalArgumentException("position must be >= 0, but found " + position);
    }
    this.count = count;
    this.globalBatch = globalBatch;
    this.seed = seed;
    this.shuffle = shuffle;
    this.order = new int[count];
    this.epoch = epoch;
    // A position past the rows (a checkpoint of a larger training set) simply starts the next epoch.
    this.position = (int) Math.min(position, count);
    permute();
  }

  /**
   * The global batch of the next step: {@code globalBatch} row indices in [0, count). Starts a new
   * epoch, with a fresh permutation, when fewer than a global batch remain in this one.
   */
  int[] nextStep() {
    if (position + globalBatch > count) {
      epoch++;
      position = 0;
      permute();
    }
    int[] picked = new int[globalBatch];
    System.arraycopy(order, position, picked, 0, globalBatch);
    position += globalBatch;
    return picked;
  }

  /** The epoch of the last global batch returned (or of the resume point). */
  long epoch() {
    return epoch;
  }

  /** Rows of the current epoch's order used so far, across all ranks. */
  long position() {
    return position;
  }

  /** Rows per step across all ranks. */
  int globalBatch() {
    return globalBatch;
  }

  /**
   * Rank {@code rank}'s rows of micro-batch {@code micro}: the {@code (micro * worldSize + rank)}-th
   * piece of {@code microBatch} rows of the step's global batch, written into {@code into}.
   */
  static int[] slice(int[] step, int micro, int rank, int worldSize, int microBatch, int[] into) {
    int from = (micro * worldSize + rank) * microBatch;
    if (from + microBatch > step.length || into.length != microBatch) {
      throw new IllegalArgumentException("micro-batch " + micro + " of rank " + rank + " of " + worldSize
          + " needs rows [" + from + ", " + (from + microBatch) + ") of a global batch of " + step.length
          + " into " + into.length + " slots; the global batch must be worldSize x microBatch x micro-batches");
    }
    System.arraycopy(step, from, into, 0, microBatch);
    return into;
  }

  /**
   * Micro-batches per rank and step that keep {@code globalBatch} at {@code worldSize} ranks of
   * {@code microBatch} rows.
   *
   * @throws IllegalArgumentException when worldSize x microBatch does not divide globalBatch
   */
  static int accumSteps(long globalBatch, int worldSize, int microBatch) {
    long perMicro = (long) worldSize * microBatch;
    if (globalBatch % perMicro != 0) {
      throw new IllegalArgumentException("the checkpoint's global batch of " + globalBatch + " rows cannot be kept at"
          + " worldSize=" + worldSize + " x microBatch=" + microBatch + " = " + perMicro + " rows per micro-batch: "
          + perMicro + " does not divide " + globalBatch + "; choose a worldSize and microBatch whose product divides "
          + globalBatch + " (gradAccumSteps becomes " + globalBatch + " / (worldSize x microBatch))");
    }
    return Math.toIntExact(globalBatch / perMicro);
  }

  /**
   * An order-independent 64-bit hash of row indices: the sum (mod 2^64) of a SplitMix64 mix of
   * each index, so the hashes of disjoint slices add up to the hash of their union.
   */
  static long hash(int[] indices) {
    long h = 0;
    for (int index : indices) {
      h += mix(index + 1L);
    }
    return h;
  }

  private static long mix(long x) {
    long z = x * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private void permute() {
    for (int i = 0; i < count; i++) {
      order[i] = i;
    }
    if (!shuffle) {
      return;
    }
    // Fisher-Yates with a stream only (seed, epoch) determines: the same order at every world size.
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L);
    for (int i = count - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
}
