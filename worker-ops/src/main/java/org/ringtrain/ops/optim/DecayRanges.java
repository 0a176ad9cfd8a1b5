/*
 * DecayRanges: the element ranges of the flat buffer that weight decay applies to, i.e. the 2-D
 * tensors of a ParameterLayout, merged where they touch. It is not an optimizer: AdamW and SGD use
 * it to scale or add on those ranges only, one op per range.
 */
package org.ringtrain.ops.optim;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * Half-open element ranges {@code [start, end)} of the tensors whose {@link TensorSpec#decays()} is
 * true (embeddings and linear weights, never biases or LayerNorm parameters), as in nanoGPT's
 * {@code configure_optimizers}. A GPT-2 layout has {@code 1 + 4L} such ranges ({@code wte} and
 * {@code wpe} touch), so per-range work stays a few dozen ND4J calls per step, with no mask buffer.
 */
final class DecayRanges {

  private final long[] starts;
  private final long[] ends;

  private DecayRanges(long[] starts, long[] ends) {
    this.starts = starts;
    this.ends = ends;
  }

  /** The decaying ranges of {@code layout}, merged where adjacent. */
  static DecayRanges of(ParameterLayout layout) {
    long[] s = new long[layout.tensors().size()];
    long[] e = new long[s.length];
    int n = 0;
    for (TensorSpec t : layout.tensors()) {
      if (!t.decays()) {
        continue;
      }
      if (n > 0 && e[n - 1] == t.offset()) {
        e[n - 1] = t.offset() + t.length();
      } else {
        s[n] = t.offset();
        e[n] = t.offset() + t.length();
        n++;
      }
    }
    return new DecayRanges(Arrays.copyOf(s, n), Arrays.copyOf(e, n));
  }

  /**
   * These ranges cut to {@code [from, to)} and shifted by {@code -from}: the decay ranges of a
   * view of the flat buffer that starts at element {@code from}.
   */
  DecayRanges within(long from, long to) {
    long[] s = new long[starts.length];
    long[] e = new long[starts.length];
    int n = 0;
    for (int i = 0; i < starts.length; i++) {
      long a = Math.max(starts[i], from);
      long b = Math.min(ends[i], to);
      if (a < b) {
        s[n] = a - from;
        e[n] = b - from;
        n++;
      }
    }
    return new DecayRanges(Arrays.copyOf(s, n), Arrays.copyOf(e, n));
  }

  /** The ranges' starts, ascending (the array itself: do not modify). */
  long[] starts() {
    return starts;
  }

  /** The ranges' exclusive ends, in the order of {@link #starts()} (the array itself). */
  long[] ends() {
    return ends;
  }

  /** Number of merged ranges. */
  int count() {
    return starts.length;
  }

  /** Elements covered by all ranges. */
  long elements() {
    long sum = 0;
    for (int i = 0; i < starts.length; i++) {
      sum += ends[i] - starts[i];
    }
    return sum;
  }

  /** {@code flat[r] *= factor} on every range; nothing when {@code factor == 1}. */
  void scale(INDArray flat, double factor) {
    if (factor == 1.0) {
      return;
    }
    for (int i = 0; i < starts.length; i++) {
      FlatOps.scale(flat.get(NDArrayIndex.interval(starts[i], ends[i])), factor);
    }
  }

  /** {@code target[r] += alpha * source[r]} on every range; nothing when {@code alpha == 0}. */
  void addScaled(INDArray target, INDArray source, double alpha) {
    if (alpha == 0.0) {
      return;
    }
    for (int i = 0; i < starts.length; i++) {
      FlatOps.axpy(alpha, source.get(NDArrayIndex.interval(starts[i], ends[i])),
          target.get(NDArrayIndex.interval(starts[i], ends[i])));
    }
  }
}
