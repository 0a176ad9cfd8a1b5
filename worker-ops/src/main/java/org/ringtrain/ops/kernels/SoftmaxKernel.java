/*
 * SoftmaxKernel: the attention softmax in float32, the additive mask and the softmax in one pass
 * over the scores, and its backward in one pass over the probabilities and their gradient. The
 * scores' scale is not here (the batched matmul applies it) and neither are the matmuls; the
 * maths and the float64 path are Attention's in org.ringtrain.ops.layers.
 */
package org.ringtrain.ops.kernels;

import java.nio.FloatBuffer;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Rows are copied into per-thread arrays for their three passes (measured ~2x faster than vector
 * loads from the buffer for rows of 256 on Java 17).
 *
 * <p>{@code att = softmax(att + mask)} over the last axis of [B, NH, T, Tk], in place, with the mask
 * a [T, Tk] matrix or a [B, 1, 1, Tk] key padding mask; and
 * {@code datt = att * (datt - rowsum(att * datt))}, in place.
 *
 * <p>A [T, T] mask that is exactly causal (0 on and below the diagonal, {@link #MASKED} above, as
 * Attention.causalMask makes it) is recognised, and row i then works on its first i + 1 scores
 * only and writes zeros after them: the probabilities exp() would have underflowed to 0 anyway.
 */
public final class SoftmaxKernel {

  /** The value of masked entries in a causal mask (Attention.MASKED). */
  public static final float MASKED = -1e9f;
  /** Rows per chunk of work. */
  static final int CHUNK = 32;

  private SoftmaxKernel() {
  }

  /**
   * Whether {@link #forward} handles this mask: [T, Tk] or [B, 1, 1, Tk] for scores [B, NH, T, Tk].
   */
  public static boolean supportsMask(INDArray att, INDArray mask) {
    long tk = att.size(3);
    if (mask.rank() == 2) {
      return mask.size(0) == att.size(2) && mask.size(1) == tk;
    }
    return mask.rank() == 4 && mask.size(0) == att.size(0) && mask.size(1) == 1 && mask.size(2) == 1
        && mask.size(3) == tk;
  }

  /**
   * Forward pass in place; the mask must pass {@link #supportsMask}, and every row must keep at
   * least one key (a finite score after the mask).
   *
   * @param att  [B, NH, T, Tk] in: scaled scores; out: probabilities
   * @param mask [T, Tk] or [B, 1, 1, Tk], added to the scores
   */
  public static void forward(INDArray att, INDArray mask) {
    int heads = (int) att.size(1);
    int t = (int) att.size(2);
    int tk = (int) att.size(3);
    int rows = (int) (att.length() / tk);
    boolean perQuery = mask.rank() == 2; // [T, Tk]: row i of each head; else [B, 1, 1, Tk]: row b
    FloatBuffer a = Fused.floats(att).asFloatBuffer();
    FloatBuffer m = Fused.floats(mask).asFloatBuffer();
    boolean causal = perQuery && t == tk && isCausal(m, t);
    Parallel.forChunks(rows, CHUNK, (from, to) -> {
      int len = (to - from) * tk;
      float[] as = Scratch.floats(0, len);
      float[] ms = Scratch.floats(1, tk);
      a.get(from * tk, as, 0, len);
      int loadedMaskRow = -1;
      for (int row = from; row < to; row++) {
        int base = (row - from) * tk;
        if (causal) {
          int valid = row % t + 1;
          softmaxRow(as, null, base, valid);
          Arrays.fill(as, base + valid, base + tk, 0f);
          continue;
        }
        int maskRow = perQuery ? row % t : row / (heads * t);
        if (maskRow != loadedMaskRow) {
          m.get(maskRow * tk, ms, 0, tk);
          loadedMaskRow = maskRow;
        }
        softmaxRow(as, ms, base, tk);
      }
      a.put(from * tk, as, 0, len);
    });
  }

  /** Whether the [t, t] mask is exactly 0 on and below the diagonal and MASKED above it. */
  private static boolean isCausal(FloatBuffer m, int t) {
    float[] row = Scratch.floats(0, t);
    for (int i = 0; i < t; i++) {
      m.get(i * t, row, 0, t);
      for (int j = 0; j < t; j++) {
        if (row[j] != (j <= i ? 0f : MASKED)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Softmax of {@code a[base .. base + count)} plus the mask row (none when null), in place; also
   * the decode step's (DecodeAttentionKernel).
   */
  static void softmaxRow(float[] a, float[] mask, int base, int count) {
    int bound = Lanes.bound(count);
    // Pass 1: scores + mask, stored back, and their maximum.
    FloatVector maxV = FloatVector.broadcast(Lanes.FLOATS, Float.NEGATIVE_INFINITY);
    int i = 0;
    for (; i < bound; i += Lanes.N) {
      FloatVector s = Lanes.load(a, base + i);
      if (mask != null) {
        s = s.add(Lanes.load(mask, i));
        Lanes.store(s, a, base + i);
      }
      maxV = maxV.max(s);
    }
    float max = Lanes.max(maxV);
    for (; i < count; i++) {
      if (mask != null) {
        a[base + i] += mask[i];
      }
      max = Math.max(max, a[base + i]);
    }
    // Pass 2: e = exp(s - max), stored, and their sum.
    FloatVector maxB = FloatVector.broadcast(Lanes.FLOATS, max);
    FloatVector sumV = FloatVector.zero(Lanes.FLOATS);
    for (i = 0; i < bound; i += Lanes.N) {
      FloatVector e = Lanes.exp(Lanes.load(a, base + i).sub(maxB));
      Lanes.store(e, a, base + i);
      sumV = sumV.add(e);
    }
    float sum = Lanes.sum(sumV);
    for (; i < count; i++) {
      float e = Lanes.exp(a[base + i] - max);
      a[base + i] = e;
      sum += e;
    }
    // Pass 3: normalise.
    FloatVector sumB = FloatVector.broadcast(Lanes.FLOATS, sum);
    for (i = 0; i < bound; i += Lanes.N) {
      Lanes.store(Lanes.load(a, base + i).div(sumB), a, base + i);
    }
    for (; i < count; i++) {
      a[base + i] /= sum;
    }
  }

  /**
   * Backward pass in place: {@code datt = att * (datt - rowsum(att * datt))}. Masked entries have
   * att = 0 and so get no gradient.
   *
   * @param datt [B, NH, T, Tk] in: gradient of the probabilities; out: gradient of the scores
   * @param att  [B, NH, T, Tk] the probabilities from forward
   */
  public static void backward(INDArray datt, INDArray att) {
    int tk = (int) att.size(3);
    int rows = (int) (att.length() / tk);
    FloatBuffer d = Fused.floats(datt).asFloatBuffer();
    FloatBuffer a = Fused.floats(att).asFloatBuffer();
    Parallel.forChunks(rows, CHUNK, (from, to) -> {
      int len = (to - from) * tk;
      float[] ds = Scratch.floats(0, len);
      float[] as = Scratch.floats(1, len);
      d.get(from * tk, ds, 0, len);
      a.get(from * tk, as, 0, len);
      for (int row = from; row < to; row++) {
        backwardRow(ds, as, (row - from) * tk, tk);
      }
      d.put(from * tk, ds, 0, len);
    });
  }

  private static void backwardRow(float[] d, float[] a, int base, int tk) {
    int bound = Lanes.bound(tk);
    FloatVector dotV = FloatVector.zero(Lanes.FLOATS);
    int i = 0;
    for (; i < bound; i += Lanes.N) {
      dotV = dotV.add(Lanes.load(a, base + i).mul(Lanes.load(d, base + i)));
    }
    float dot = Lanes.sum(dotV);
    for (; i < tk; i++) {
      dot += a[base + i] * d[base + i];
    }
    FloatVector dotB = FloatVector.broadcast(Lanes.FLOATS, dot);
    for (i = 0; i < bound; i += Lanes.N) {
      Lanes.store(Lanes.load(a, base + i).mul(Lanes.load(d, base + i).sub(dotB)), d, base + i);
    }
    for (; i < tk; i++) {
      d[base + i] = a[base + i] * (d[base + i] - dot);
    }
  }
}
