// The rank loop's decision on a step whose global loss or gradient norm is NaN
// or infinite: update as usual, skip the update, or stop the run - and the
// count of skipped steps, in a row and in total. Every rank feeds it the same
// all-reduced values, so every rank decides the same. It neither reduces nor
// reports; RankLoop does both.
package org.ringtrain.driver.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** Decides step by step under one {@link DivergenceSettings}; single use, one thread. */
final class NonFiniteGuard {

  /** What to do with a step's update. */
  enum Verdict {
    /** Finite values: apply the optimizer step. */
    UPDATE,
    /** Non-finite values, skipping allowed: leave parameters and optimizer state untouched. */
    SKIP,
    /** Non-finite values, no skip left: end the run before the update. */
    STOP
  }

  private final DivergenceSettings settings;
  private int consecutive;
  private long skipped;

  NonFiniteGuard(DivergenceSettings settings) {
    this.settings = settings;
  }

  /** The verdict on a step whose global mean loss and global gradient norm are given. */
  Verdict check(float loss, double gradNorm) {
    if (Float.isFinite(loss) && Double.isFinite(gradNorm)) {
      consecutive = 0;
      return Verdict.UPDATE;
    }
    if (settings.onNonFinite() == DivergenceSettings.OnNonFinite.STOP
        || consecutive >= settings.maxSkippedSteps()) {
      return Verdict.STOP;
    }
    consecutive++;
    skipped++;
    return Verdict.SKIP;
  }

  /** Steps skipped so far in this run. */
  long skipped() {
    return skipped;
  }

  /** Steps skipped in a row up to the last verdict. */
  int consecutive() {
    return consecutive;
  }

  /** Which of the two values went non-finite, with its value, e.g. {@code "loss (NaN)"}. */
  static String nonFiniteValues(float loss, double gradNorm) {
    String lossPart = Float.isFinite(loss) ? "" : "loss (" + loss + ")";
    String normPart = Double.isFinite(gradNorm) ? "" : "gradient norm (" + gradNorm + ")";
    return lossPart.isEmpty() || normPart.isEmpty() ? lossPart + normPart : lossPart + " and " + normPart;
  }

  /**
   * The index of the first NaN or infinite float among the first {@code count} of a buffer in
   * native byte order, or -1 when all are finite. A plain indexed loop: it runs once per
   * checkpoint over the whole parameter buffer.
   */
  static long firstNonFinite(ByteBuffer bytes, long count) {
    FloatBuffer floats = bytes.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
    int n = Math.toIntExact(Math.min(count, floats.limit()));
    for (int i = 0; i < n; i++) {
      if (!Float.isFinite(floats.get(i))) {
        return i;
      }
    }
    return -1;
  }
}
