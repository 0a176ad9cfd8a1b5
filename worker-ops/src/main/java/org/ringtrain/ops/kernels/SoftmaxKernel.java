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
  /** (sample, head) blocks per chunk of work of the ragged passes. */
  static final int BLOCKS = 4;

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

  /**
   * Forward pass in place over each sample's own positions only (attention on rows of different
   * lengths, see HeadGemm's gemm with lengths): in the [len, len] top-left block of each (sample,
   * head), row i is the softmax of its first len scores (bidirectional) or of its first i + 1 with
   * zeros after them up to len ({@code causal}); nothing outside those blocks is read or written.
   * Each row's arithmetic is that of {@link #forward} with a key padding mask, or causal, of the
   * same lengths (up to the order of additions where the row's tail is shorter than a vector).
   *
   * @param att     [B, NH, T, T] in: scaled scores; out: probabilities inside the blocks
   * @param lengths B sample lengths in [1, T]
   * @param causal  whether row i sees only the positions up to i
   */
  public static void forwardRagged(INDArray att, int[] lengths, boolean causal) {
    int heads = (int) att.size(1);
    int t = (int) att.size(2);
    FloatBuffer a = Fused.floats(att).asFloatBuffer();
    Parallel.forChunks(lengths.length * heads, BLOCKS, (from, to) -> {
      float[] row = Scratch.floats(0, t);
      for (int block = from; block < to; block++) {
        int len = lengths[block / heads];
        for (int i = 0; i < len; i++) {
          int at = (block * t + i) * t;
          int valid = causal ? i + 1 : len;
          a.get(at, row, 0, valid);
          softmaxRow(row, null, 0, valid);
          Arrays.fill(row, valid, len, 0f);
          a.put(at, row, 0, len);
        }
      }
    });
  }

  /**
   * Backward of {@link #forwardRagged}, in place inside the same blocks:
   * {@code datt = att * (datt - rowsum(att * datt))} over each row's first len entries.
   *
   * @param datt    [B, NH, T, T] in: gradient of the probabilities; out: of the scores (inside the blocks)
   * @param att     [B, NH, T, T] the probabilities from forwardRagged
   * @param lengths B sample lengths, as in forward
   */
  public static void backwardRagged(INDArray datt, INDArray att, int[] lengths) {
    int heads = (int) att.size(1);
    int t = (int) att.size(2);
    FloatBuffer d = Fused.floats(datt).asFloatBuffer();
    FloatBuffer a = Fused.floats(att).asFloatBuffer();
    Parallel.forChunks(lengths.length * heads, BLOCKS, (from, to) -> {
      float[] ds = Scratch.floats(0, t);
      float[] as = Scratch.floats(1, t);
      for (int block = from; block < to; block++) {
        int len = lengths[block / heads];
        for (int i = 0; i < len; i++) {
          int at = (block * t + i) * t;
          d.get(at, ds, 0, len);
          a.get(at, as, 0, len);
          backwardRow(ds, as, 0, len);
          d.put(at, ds, 0, len);
        }
      }
    });
  }

  /** Whether {@code mask} is a [T, T] causal mask as Attention.causalMask makes it. */
  public static boolean isCausal(INDArray mask) {
    return mask.rank() == 2 && mask.size(0) == mask.size(1) && Fused.accepts(mask)
        && isCausal(Fused.floats(mask).asFloatBuffer(), (int) mask.size(0));
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
    if (count < Lanes.N) {
      softmaxShortRow(a, mask, base, count);
      return;
    }
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
   * {@link #softmaxRow} of a row shorter than a vector, in scalar code: the same operations in the
   * same order as that method's tail loops (its vector passes have nothing to do), so the same
   * bits, without the vector reductions and broadcasts that cost more than a short row's work
   * (attention over rows of a few tokens, see forwardRagged).
   */
  private static void softmaxShortRow(float[] a, float[] mask, int base, int count) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < count; i++) {
      if (mask != null) {
        a[base + i] += mask[i];
      }
      max = Math.max(max, a[base + i]);
    }
    float sum = 0f;
    for (int i = 0; i < count; i++) {
      float e = Lanes.exp(a[base + i] - max);
      a[base + i] = e;
      sum += e;
    }
    for (int i = 0; i < count; i++) {
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
    if (tk < Lanes.N) { // scalar, as the tail loops below: the same bits without the vector reduction
      float dot = 0f;
      for (int i = 0; i < tk; i++) {
        dot += a[base + i] * d[base + i];
      }
      for (int i = 0; i < tk; i++) {
        d[base + i] = a[base + i] * (d[base + i] - dot);
      }
      return;
    }
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
