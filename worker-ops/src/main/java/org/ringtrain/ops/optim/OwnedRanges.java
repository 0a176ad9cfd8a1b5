/*
 * OwnedRanges: the element ranges of the flat parameter buffer that one rank's optimizer updates
 * when optimizer state is sharded (ZeRO stage 1), with each range's place in the compact state
 * buffers and its own weight-decay ranges. It is not a communication plan: which ranges a rank
 * owns is the ring's decision (the driver asks it); this class only checks and indexes them.
 */
package org.ringtrain.ops.optim;

import java.util.Arrays;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * Sorted, disjoint, non-empty half-open ranges {@code [start, end)} of a layout's flat buffer. The
 * optimizer's state for range i lives at {@code [stateOffset(i), stateOffset(i) + length(i))} of
 * its compact m and v, so a rank that owns 1/N of the buffer holds 1/N of the state. Weight decay
 * follows the tensor boundaries inside each range: {@link #decay(int)} is the layout's
 * {@link DecayRanges} cut to the range and shifted to start at 0. Immutable.
 */
public final class OwnedRanges {

  private final long[] starts;
  private final long[] ends;
  private final long[] stateOffsets;
  private final DecayRanges[] decay;
  private final long elements;

  private OwnedRanges(ParameterLayout layout, long[] starts, long[] ends) {
    DecayRanges all = DecayRanges.of(layout);
    this.starts = starts;
    this.ends = ends;
    this.stateOffsets = new long[starts.length];
    this.decay = new DecayRanges[starts.length];
    long at = 0;
    for (int i = 0; i < starts.length; i++) {
      stateOffsets[i] = at;
      decay[i] = all.within(starts[i], ends[i]);
      at += ends[i] - starts[i];
    }
    this.elements = at;
  }

  /** The whole buffer of {@code layout}: one range, as an unsharded optimizer uses. */
  public static OwnedRanges all(ParameterLayout layout) {
    long n = layout.totalElements();
    return n == 0 ? new OwnedRanges(layout, new long[0], new long[0])
        : new OwnedRanges(layout, new long[] {0}, new long[] {n});
  }

  /**
   * The ranges {@code [starts[i], ends[i])} of {@code layout}'s buffer; empty ranges are dropped.
   *
   * @throws IllegalArgumentException unless the arrays have equal length and the non-empty ranges
   *     are ascending, disjoint and inside the layout
   */
  public static OwnedRanges of(ParameterLayout layout, long[] starts, long[] ends) {
    if (layout == null || starts == null || ends == null || starts.length != ends.length) {
      throw new IllegalArgumentException("expected a layout and starts/ends arrays of equal length, but found layout="
          + layout + ", " + (starts == null ? "null" : starts.length) + " starts and "
          + (ends == null ? "null" : ends.length) + " ends");
    }
    long[] s = new long[starts.length];
    long[] e = new long[ends.length];
    int n = 0;
    long previousEnd = 0;
    for (int i = 0; i < starts.length; i++) {
      if (starts[i] > ends[i] || starts[i] < previousEnd || ends[i] > layout.totalElements()) {
        throw new IllegalArgumentException("owned range " + i + " [" + starts[i] + ", " + ends[i] + ") must lie in [0, "
            + layout.totalElements() + "), after the previous one (which ends at " + previousEnd + "), with start <= end;"
            + " pass the ranges sorted and disjoint");
      }
      if (starts[i] < ends[i]) {
        s[n] = starts[i];
        e[n] = ends[i];
        previousEnd = ends[i];
        n++;
      }
    }
    return new OwnedRanges(layout, Arrays.copyOf(s, n), Arrays.copyOf(e, n));
  }

  /** Number of (non-empty) ranges. */
  public int count() {
    return starts.length;
  }

  /** First element of range {@code i} in the flat buffer. */
  public long start(int i) {
    return starts[i];
  }

  /** One past the last element of range {@code i} in the flat buffer. */
  public long end(int i) {
    return ends[i];
  }

  /** Where range {@code i}'s state starts in the compact state buffers. */
  public long stateOffset(int i) {
    return stateOffsets[i];
  }

  /** Elements owned in total: the length of the compact state buffers. */
  public long elements() {
    return elements;
  }

  /** Whether this is the whole buffer of {@code layout}. */
  public boolean coversAll(ParameterLayout layout) {
    return elements == layout.totalElements();
  }

  /** Weight-decay ranges inside range {@code i}, relative to its start. */
  DecayRanges decay(int i) {
    return decay[i];
  }

  @Override
  public String toString() {
    return "OwnedRanges[" + count() + " ranges, " + elements + " elements]";
  }
}
