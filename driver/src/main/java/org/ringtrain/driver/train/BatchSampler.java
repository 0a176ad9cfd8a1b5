// Which training rows each step uses, independent of the number of ranks: one
// permutation of ALL training rows per epoch, seeded by (seed, epoch) only, walked
// by a global cursor one global batch per step. A step's global batch is cut into
// micro-batches of microBatch rows in order; with worldSize ranks and accum
// micro-batches per rank, micro-batch a of rank r is the (a * worldSize + r)-th
// piece. The union of a step's pieces is the global batch whatever worldSize is,
// so (epoch, position) plus the global batch size is all a checkpoint needs to
// continue the exact same samples at any world size. With row lengths it groups
// rows of similar length into the same global batches (as Hugging Face's
// group_by_length and torchtext's BucketIterator do), still a pure function of
// (seed, epoch) and the rows. It does not hold rows, only their indices in the
// whole training set (what the model's forward receives).
package org.ringtrain.driver.train;

import java.util.Arrays;
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
  private final int[] lengths; // tokens per row, for length grouping; null = no grouping
  private final int groupBatches; // global batches per length-sorted chunk; 0 = no grouping
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
    this(count, globalBatch, seed, shuffle, epoch, position, null, 0);
  }

  /**
   * As above, with length grouping when {@code lengths} is given and {@code groupBatches > 0}: each
   * epoch's permutation is cut into chunks of {@code groupBatches} global batches, each chunk's rows
   * are sorted by length (ties in permutation order) and cut into global batches, and the order of
   * the epoch's global batches is shuffled. An epoch uses the same rows as without grouping.
   *
   * @param lengths      tokens of each training row (not padding), indexed as the rows; null = no grouping
   * @param groupBatches global batches per length-sorted chunk; 0 = no grouping
   */
  BatchSampler(int count, int globalBatch, long seed, boolean shuffle, long epoch, long position, int[] lengths,
      int groupBatches) {
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
    if (groupBatches < 0 || lengths != null && lengths.length != count) {
      throw new IllegalArgumentException("length grouping needs groupBatches >= 0 and one length per training row,"
          + " but found groupBatches=" + groupBatches + " and " + (lengths == null ? "no" : lengths.length)
          + " lengths for " + count + " rows");
    }
    this.count = count;
    this.globalBatch = globalBatch;
    this.seed = seed;
    this.shuffle = shuffle;
    this.lengths = groupBatches > 0 ? lengths : null;
    this.groupBatches = groupBatches;
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

  /** Tokens (not padding) in the rows {@code step} picks, by {@code lengths}. */
  static long tokens(int[] step, int[] lengths) {
    long sum = 0;
    for (int row : step) {
      sum += lengths[row];
    }
    return sum;
  }

  /**
   * Positions a model computes for the rows {@code step} picks when every micro-batch of
   * {@code microBatch} rows is trimmed to its longest row: the sum over the step's micro-batches of
   * {@code microBatch} x the longest length in it. Padding is this minus {@link #tokens}.
   */
  static long positions(int[] step, int[] lengths, int microBatch) {
    long sum = 0;
    for (int from = 0; from < step.length; from += microBatch) {
      int longest = 0;
      for (int i = from; i < from + microBatch; i++) {
        longest = Math.max(longest, lengths[step[i]]);
      }
      sum += (long) microBatch * longest;
    }
    return sum;
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
    // Fisher-Yates with a stream only (seed, epoch) determines: the same order at every world size.
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L);
    if (shuffle) {
      shuffle(order, count, random);
    }
    if (lengths != null) {
      groupByLength(random);
    }
  }

  /**
   * Sorts each chunk of groupBatches global batches of the permutation by row length, then shuffles
   * the order of the epoch's global batches (the same random stream continues). Only the rows of
   * whole global batches take part; the rest of the permutation (fewer than a global batch, unused
   * this epoch) stays at its end, so the epoch uses exactly the rows it uses without grouping.
   */
  private void groupByLength(SplittableRandom random) {
    int batches = count / globalBatch;
    int used = batches * globalBatch;
    int chunk = (int) Math.min((long) groupBatches * globalBatch, used);
    int[] grouped = new int[used];
    long[] keys = new long[chunk]; // length in the high half, position in the chunk in the low half
    for (int from = 0; from < used; from += chunk) {
      int n = Math.min(chunk, used - from);
      for (int i = 0; i < n; i++) {
        keys[i] = (long) lengths[order[from + i]] << 32 | i;
      }
      Arrays.sort(keys, 0, n);
      for (int i = 0; i < n; i++) {
        grouped[from + i] = order[from + (int) keys[i]];
      }
    }
    int[] batchOrder = new int[batches];
    for (int b = 0; b < batches; b++) {
      batchOrder[b] = b;
    }
    shuffle(batchOrder, batches, random);
    for (int b = 0; b < batches; b++) {
      System.arraycopy(grouped, batchOrder[b] * globalBatch, order, b * globalBatch, globalBatch);
    }
  }

  private static void shuffle(int[] a, int n, SplittableRandom random) {
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
