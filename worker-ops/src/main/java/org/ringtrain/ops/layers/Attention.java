/*
 * Attention: causal multi-head scaled dot-product self-attention on a packed qkv activation, as
 * per-head matmuls over [B, NH, T, HS]. In float32 on the CPU backend the products are direct
 * cblas_sgemm calls (org.ringtrain.ops.kernels.HeadGemm) that read and write the token-major
 * activations around attention in place, the mask and softmax (forward and backward) are one
 * fused kernel each (SoftmaxKernel), and the one layout copy left (q, k, v into heads, which
 * backward keeps) is a block move (HeadsKernel); the ND4J path uses libnd4j's batched matmul and
 * layout copies. It is not the qkv or output projection (those are Linear layers around it).
 * Dropout on the attention probabilities is an optional argument (a Dropout.Mask; training only).
 * For one-token decoding with a KV cache see CachedAttention.
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.kernels.HeadGemm;
import org.ringtrain.ops.kernels.HeadsKernel;
import org.ringtrain.ops.kernels.RowGemm;
import org.ringtrain.ops.kernels.SoftmaxKernel;

/**
 * {@code out = softmax(q k^T / sqrt(HS) + mask) v} per head, with q, k, v the three C-wide thirds of
 * {@code inp} (GPT-2's c_attn output order) and heads interleaved as [T, NH, HS] inside each third.
 */
public final class Attention {

  /** Added to the scores of future positions; exp() of it underflows to exactly 0 in float and double. */
  public static final double MASKED = -1e9;

  private Attention() {
  }

  /**
   * The causal mask [T, T]: 0 on and below the diagonal, {@link #MASKED} above. Allocated once per T.
   */
  public static INDArray causalMask(DataType dtype, int seqLen) {
    INDArray mask = Nd4j.create(dtype, seqLen, seqLen); // [T, T]
    for (int i = 0; i < seqLen; i++) {
      if (i + 1 < seqLen) {
        mask.get(NDArrayIndex.point(i), NDArrayIndex.interval(i + 1, seqLen)).assign(MASKED);
      }
    }
    return mask;
  }

  /**
   * The [3, B, NH, T, HS] view of a packed [B*T, 3C] qkv array, for copying heads in and out.
   */
  public static INDArray headsView(INDArray qkv, int batch, int seqLen, int heads) {
    long hs = qkv.size(1) / 3 / heads;
    return qkv.reshape(batch, seqLen, 3, heads, hs).permute(2, 0, 3, 1, 4);
  }

  /** The [B, NH, T, HS] view of a [B*T, C] array. */
  public static INDArray headsViewOfC(INDArray x, int batch, int seqLen, int heads) {
    long hs = x.size(1) / heads;
    return x.reshape(batch, seqLen, heads, hs).permute(0, 2, 1, 3);
  }

  /**
   * Forward pass.
   *
   * @param out   [B*T, C] output, overwritten
   * @param qkvh  [3, B, NH, T, HS] q, k, v split into heads, saved for backward
   * @param att   [B, NH, T, T] attention probabilities, saved for backward
   * @param yh    [B, NH, T, HS] scratch (not used by the fused path)
   * @param inp   [B*T, 3C] packed q, k, v
   * @param mask  [T, T] from {@link #causalMask}, or any array that broadcasts to [B, NH, T, T], such
   *              as a key padding mask [B, 1, 1, T] (0 for tokens, {@link #MASKED} for padding) for
   *              bidirectional attention; every query row needs at least one unmasked key
   * @param batch B
   * @param seqLen T
   * @param heads NH
   */
  public static void forward(INDArray out, INDArray qkvh, INDArray att, INDArray yh, INDArray inp,
      INDArray mask, int batch, int seqLen, int heads) {
    forward(out, qkvh, att, yh, inp, mask, null, null, batch, seqLen, heads);
  }

  /**
   * {@link #forward(INDArray, INDArray, INDArray, INDArray, INDArray, INDArray, int, int, int)} with
   * dropout on the attention probabilities: {@code out = dropout(softmax(...)) v}. {@code att}
   * keeps the probabilities before dropout (the softmax backward needs them); the dropped ones go
   * to {@code attDropped}. With {@code drop} null this is exactly the forward without dropout.
   *
   * @param drop       the mask of the probabilities, rows per sample NH*T; null for none
   * @param attDropped [B, NH, T, T] scratch for the dropped probabilities (unused when drop is null)
   */
  public static void forward(INDArray out, INDArray qkvh, INDArray att, INDArray yh, INDArray inp,
      INDArray mask, Dropout.Mask drop, INDArray attDropped, int batch, int seqLen, int heads) {
    forward(out, qkvh, att, yh, inp, mask, drop, attDropped, null, batch, seqLen, heads);
  }

  /**
   * The forward above for samples whose tokens are their first {@code lengths[b]} positions
   * (trailing padding, masked by {@code mask}): the float32 path then computes each sample's
   * [len, len] block of scores only, and leaves the rows of {@code out} past a sample's length and
   * the entries of {@code att} outside its blocks as they were (the padded rows' values, which
   * nothing may read); the ND4J path computes every position, the padding masked. The
   * backward must be given the same lengths.
   *
   * @param mask    a key padding mask [B, 1, 1, T] that masks exactly the positions past each length,
   *                or the causal mask [T, T]
   * @param lengths B lengths in [1, T]; null: every position is computed
   */
  public static void forward(INDArray out, INDArray qkvh, INDArray att, INDArray yh, INDArray inp,
      INDArray mask, Dropout.Mask drop, INDArray attDropped, int[] lengths, int batch, int seqLen, int heads) {
    boolean fused = RowGemm.AVAILABLE && Fused.accepts(out, qkvh, att, yh, inp, mask)
        && SoftmaxKernel.supportsMask(att, mask);
    if (fused) {
      forwardFused(out, qkvh, att, inp, mask, drop, attDropped, checkLengths(lengths, mask, batch, seqLen), batch,
          seqLen, heads);
      return;
    }
    forward(out, qkvh, att, yh, inp, mask, drop, attDropped, batch, seqLen, heads, false);
  }

  /** {@code lengths}, after checking they fit the batch and the mask is one ragged attention can skip. */
  private static int[] checkLengths(int[] lengths, INDArray mask, int batch, int seqLen) {
    if (lengths == null) {
      return null;
    }
    boolean keyPadding = mask.rank() == 4;
    if (lengths.length != batch || !(keyPadding || SoftmaxKernel.isCausal(mask))) {
      throw new IllegalArgumentException("attention over per-sample lengths needs B=" + batch + " lengths and a key"
          + " padding mask [B, 1, 1, T] or the causal mask [T, T], but found " + lengths.length + " lengths and a mask"
          + " of shape " + java.util.Arrays.toString(mask.shape()) + "; pass null lengths for any other mask");
    }
    for (int len : lengths) {
      if (len < 1 || len > seqLen) {
        throw new IllegalArgumentException("attention lengths must be in [1, T=" + seqLen + "], but found " + len
            + "; T is the longest sample's length");
      }
    }
    return lengths;
  }

  /**
   * {@link #forward} with the layout copies, mask and softmax as ND4J ops: the float64 path, and
   * the reference and baseline of the fused kernels.
   */
  public static void forwardNd4j(INDArray out, INDArray qkvh, INDArray att, INDArray yh, INDArray inp,
      INDArray mask, int batch, int seqLen, int heads) {
    forward(out, qkvh, att, yh, inp, mask, null, null, batch, seqLen, heads, false);
  }

  private static void forward(INDArray out, INDArray qkvh, INDArray att, INDArray yh, INDArray inp,
      INDArray mask, Dropout.Mask drop, INDArray attDropped, int batch, int seqLen, int heads, boolean fused) {
    if (fused) {
      forwardFused(out, qkvh, att, inp, mask, drop, attDropped, null, batch, seqLen, heads);
      return;
    }
    long hs = inp.size(1) / 3 / heads;
    double scale = 1.0 / Math.sqrt(hs);
    qkvh.assign(headsView(inp, batch, seqLen, heads));
    INDArray q = qkvh.get(NDArrayIndex.point(0)); // [B, NH, T, HS]
    INDArray k = qkvh.get(NDArrayIndex.point(1));
    INDArray v = qkvh.get(NDArrayIndex.point(2));
    Kernels.bmm(att, q, k, false, true, scale, 0.0);
    Kernels.broadcastAdd(att, att, mask);
    Nd4j.exec(new SoftMax(att, att, 3));
    INDArray probs = att;
    if (drop != null) {
      Dropout.forward(attDropped, att, drop);
      probs = attDropped;
    }
    Kernels.bmm(yh, probs, v, false, false, 1.0, 0.0);
    headsViewOfC(out, batch, seqLen, heads).assign(yh);
  }

  /**
   * The float32 forward: the per-head products go to cblas_sgemm directly (HeadGemm), the output
   * straight into the token-major {@code out}; only q, k, v are copied into heads (backward keeps
   * them). Same products, operands and order as the ND4J path's batched matmuls, so the same bits.
   */
  private static void forwardFused(INDArray out, INDArray qkvh, INDArray att, INDArray inp, INDArray mask,
      Dropout.Mask drop, INDArray attDropped, int[] lengths, int batch, int seqLen, int heads) {
    int hs = (int) (inp.size(1) / 3 / heads);
    float scale = (float) (1.0 / Math.sqrt(hs));
    int len = lengths == null ? seqLen : HeadGemm.SAMPLE_LENGTH; // the T of each product
    HeadsKernel.toHeads(qkvh, inp, batch, seqLen, 3, heads, lengths);
    HeadGemm.gemm(scores(att, batch, seqLen, heads), head(qkvh, 0, batch, seqLen, heads, hs), false,
        head(qkvh, 1, batch, seqLen, heads, hs), true, batch, heads, len, len, hs, scale, 0f, lengths);
    if (lengths == null) {
      SoftmaxKernel.forward(att, mask);
    } else {
      SoftmaxKernel.forwardRagged(att, lengths, mask.rank() == 2);
    }
    INDArray probs = att;
    if (drop != null) {
      drop(attDropped, att, drop, lengths);
      probs = attDropped;
    }
    HeadGemm.gemm(HeadGemm.Operand.tokenMajor(out, 0, 1, seqLen, heads, hs), scores(probs, batch, seqLen, heads),
        false, head(qkvh, 2, batch, seqLen, heads, hs), false, batch, heads, len, hs, len, 1f, 0f, lengths);
  }

  /** Dropout of [B, NH, T, T] probabilities or their gradient: all of it, or each sample's blocks. */
  private static void drop(INDArray out, INDArray inp, Dropout.Mask drop, int[] lengths) {
    if (lengths == null) {
      Dropout.forward(out, inp, drop);
    } else {
      Dropout.forwardBlocks(out, inp, drop, lengths);
    }
  }

  /** Part p (q, k, v) of [3, B, NH, T, HS]. */
  private static HeadGemm.Operand head(INDArray qkvh, int part, int batch, int seqLen, int heads, int hs) {
    return HeadGemm.Operand.headMajor(qkvh, part, batch, heads, seqLen, hs);
  }

  /** [B, NH, T, T]. */
  private static HeadGemm.Operand scores(INDArray att, int batch, int seqLen, int heads) {
    return HeadGemm.Operand.headMajor(att, 0, batch, heads, seqLen, seqLen);
  }

  /**
   * Backward pass; overwrites {@code dinp}. The softmax backward is
   * {@code dpre = att * (datt - rowsum(att * datt))}; masked entries have att = 0 so get no gradient.
   * Besides {@code att}, it needs one [B, NH, T, T] array at a time (the dropped probabilities, then
   * {@code datt}).
   *
   * @param dinp    [B*T, 3C] overwritten
   * @param dout    [B*T, C]
   * @param qkvh    [3, B, NH, T, HS] from forward
   * @param att     [B, NH, T, T] from forward
   * @param dyh     [B, NH, T, HS] scratch (not used by the fused path)
   * @param datt    [B, NH, T, T] scratch
   * @param attTmp  [B, NH, T, T] the dropped probabilities with dropout, else unused; may be
   *                {@code datt} itself (v's gradient, which reads them, comes before datt is written)
   * @param rowSum  [B, NH, T] scratch (not used by the fused kernel)
   * @param dqkvh   [3, B, NH, T, HS] scratch (not used by the fused path)
   * @param batch   B
   * @param seqLen  T
   * @param heads   NH
   */
  public static void backward(INDArray dinp, INDArray dout, INDArray qkvh, INDArray att,
      INDArray dyh, INDArray datt, INDArray attTmp, INDArray rowSum, INDArray dqkvh,
      int batch, int seqLen, int heads) {
    backward(dinp, dout, qkvh, att, dyh, datt, attTmp, rowSum, dqkvh, null, batch, seqLen, heads);
  }

  /**
   * Backward of the forward with dropout: the mask is recomputed from {@code drop} (the forward's
   * mask), the dropped probabilities into {@code attTmp} for v's gradient, and the probabilities'
   * gradient is masked before the softmax backward. With {@code drop} null this is exactly the
   * backward without dropout.
   *
   * @param drop the forward's mask, or null
   */
  public static void backward(INDArray dinp, INDArray dout, INDArray qkvh, INDArray att,
      INDArray dyh, INDArray datt, INDArray attTmp, INDArray rowSum, INDArray dqkvh, Dropout.Mask drop,
      int batch, int seqLen, int heads) {
    backward(dinp, dout, qkvh, att, dyh, datt, attTmp, rowSum, dqkvh, drop, null, batch, seqLen, heads);
  }

  /**
   * Backward of a forward given {@code lengths} (the same; null for none): the float32 path
   * computes inside each sample's blocks only and leaves {@code dinp}'s rows past a sample's length
   * as they were. {@code dout}'s rows past a sample's length must be 0, as they are when nothing
   * reads a padded position's output: the ND4J path would otherwise pass their gradient on to the
   * tokens' keys and values, and the float32 path would not.
   */
  public static void backward(INDArray dinp, INDArray dout, INDArray qkvh, INDArray att,
      INDArray dyh, INDArray datt, INDArray attTmp, INDArray rowSum, INDArray dqkvh, Dropout.Mask drop,
      int[] lengths, int batch, int seqLen, int heads) {
    if (RowGemm.AVAILABLE && Fused.accepts(dinp, dout, qkvh, att, dyh, datt, dqkvh)) {
      backwardFused(dinp, dout, qkvh, att, datt, attTmp, drop, lengths, batch, seqLen, heads);
      return;
    }
    backward(dinp, dout, qkvh, att, dyh, datt, attTmp, rowSum, dqkvh, drop, batch, seqLen, heads, false);
  }

  /**
   * {@link #backward} with the layout copies and the softmax backward as ND4J ops: the float64
   * path, and the reference and baseline of the fused kernels.
   */
  public static void backwardNd4j(INDArray dinp, INDArray dout, INDArray qkvh, INDArray att,
      INDArray dyh, INDArray datt, INDArray attTmp, INDArray rowSum, INDArray dqkvh,
      int batch, int seqLen, int heads) {
    backward(dinp, dout, qkvh, att, dyh, datt, attTmp, rowSum, dqkvh, null, batch, seqLen, heads, false);
  }

  private static void backward(INDArray dinp, INDArray dout, INDArray qkvh, INDArray att,
      INDArray dyh, INDArray datt, INDArray attTmp, INDArray rowSum, INDArray dqkvh, Dropout.Mask drop,
      int batch, int seqLen, int heads, boolean fused) {
    if (fused) {
      backwardFused(dinp, dout, qkvh, att, datt, attTmp, drop, null, batch, seqLen, heads);
      return;
    }
    long hs = dinp.size(1) / 3 / heads;
    double scale = 1.0 / Math.sqrt(hs);
    INDArray q = qkvh.get(NDArrayIndex.point(0)); // [B, NH, T, HS]
    INDArray k = qkvh.get(NDArrayIndex.point(1));
    INDArray v = qkvh.get(NDArrayIndex.point(2));
    dyh.assign(headsViewOfC(dout, batch, seqLen, heads));
    INDArray probs = att;
    if (drop != null) {
      Dropout.forward(attTmp, att, drop); // the forward's dropped probabilities, from the same key
      probs = attTmp;
    }
    Kernels.bmm(dqkvh.get(NDArrayIndex.point(2)), probs, dyh, true, false, 1.0, 0.0); // attTmp is free after
    Kernels.bmm(datt, dyh, v, false, true, 1.0, 0.0);
    if (drop != null) {
      Dropout.backward(datt, datt, drop); // gradient of the probabilities before dropout
    }
    Nd4j.exec(new Dot(att, datt, rowSum, 3)); // rowsum(att * datt), with no [B, NH, T, T] temporary
    Kernels.broadcastSub(datt, datt, rowSum.reshape(batch, heads, seqLen, 1));
    datt.muli(att); // dpre
    Kernels.bmm(dqkvh.get(NDArrayIndex.point(0)), datt, k, false, false, scale, 0.0);
    Kernels.bmm(dqkvh.get(NDArrayIndex.point(1)), datt, q, true, false, scale, 0.0);
    headsView(dinp, batch, seqLen, heads).assign(dqkvh);
  }

  /**
   * The float32 backward: as {@link #forwardFused}, the products read the output gradient from
   * the token-major {@code dout} and write q's, k's and v's gradients straight into the
   * token-major {@code dinp}, with no head-major copies in between.
   */
  private static void backwardFused(INDArray dinp, INDArray dout, INDArray qkvh, INDArray att, INDArray datt,
      INDArray attTmp, Dropout.Mask drop, int[] lengths, int batch, int seqLen, int heads) {
    int hs = (int) (dinp.size(1) / 3 / heads);
    float scale = (float) (1.0 / Math.sqrt(hs));
    int len = lengths == null ? seqLen : HeadGemm.SAMPLE_LENGTH; // the T of each product
    HeadGemm.Operand dy = HeadGemm.Operand.tokenMajor(dout, 0, 1, seqLen, heads, hs);
    HeadGemm.Operand scores = scores(datt, batch, seqLen, heads);
    INDArray probs = att;
    if (drop != null) {
      drop(attTmp, att, drop, lengths); // the forward's dropped probabilities, from the same key
      probs = attTmp;
    }
    HeadGemm.gemm(HeadGemm.Operand.tokenMajor(dinp, 2, 3, seqLen, heads, hs), scores(probs, batch, seqLen, heads),
        true, dy, false, batch, heads, len, hs, len, 1f, 0f, lengths); // dv = probs^T dy; attTmp is free after
    HeadGemm.gemm(scores, dy, false, head(qkvh, 2, batch, seqLen, heads, hs), true, batch, heads, len, len, hs,
        1f, 0f, lengths); // datt = dy v^T
    if (drop != null) {
      drop(datt, datt, drop, lengths); // gradient of the probabilities before dropout: the same mask
    }
    if (lengths == null) {
      SoftmaxKernel.backward(datt, att); // dpre
    } else {
      SoftmaxKernel.backwardRagged(datt, att, lengths);
    }
    HeadGemm.gemm(HeadGemm.Operand.tokenMajor(dinp, 0, 3, seqLen, heads, hs), scores, false,
        head(qkvh, 1, batch, seqLen, heads, hs), false, batch, heads, len, hs, len, scale, 0f, lengths); // dq = dpre k
    HeadGemm.gemm(HeadGemm.Operand.tokenMajor(dinp, 1, 3, seqLen, heads, hs), scores, true,
        head(qkvh, 0, batch, seqLen, heads, hs), false, batch, heads, len, hs, len, scale, 0f, lengths); // dk = dpre^T q
  }
}
