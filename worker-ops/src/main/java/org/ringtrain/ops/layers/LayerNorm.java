/*
 * LayerNorm: GPT-2's layer normalisation over the channel dimension with eps = 1e-5. float32
 * arrays go to the fused kernel (org.ringtrain.ops.kernels.LayerNormKernel); float64 arrays, and
 * every array when the kernels are off, to a composition of ND4J reductions and broadcasts. It is
 * not ND4J's layer_norm op, which has no epsilon (it matches eps = 0 and so differs from GPT-2 and
 * PyTorch at small variances).
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.floating.SquaredNorm;
import org.nd4j.linalg.api.ops.impl.transforms.floating.RSqrt;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.kernels.LayerNormKernel;

/**
 * {@code out = (inp - mean) * rstd * weight + bias}, with {@code rstd = 1 / sqrt(var + eps)} and the
 * biased variance, per row. The backward follows llm.c's layernorm_backward.
 */
public final class LayerNorm {

  /** GPT-2's epsilon (PyTorch nn.LayerNorm default). */
  public static final double EPS = 1e-5;

  private LayerNorm() {
  }

  /**
   * Forward pass.
   *
   * @param out    [N, C] output, overwritten
   * @param mean   [N] row means, saved for backward
   * @param rstd   [N] reciprocal standard deviations, saved for backward
   * @param inp    [N, C]
   * @param weight [C]
   * @param bias   [C]
   */
  public static void forward(INDArray out, INDArray mean, INDArray rstd, INDArray inp, INDArray weight,
      INDArray bias) {
    if (Fused.accepts(out, mean, rstd, inp, weight, bias)) {
      LayerNormKernel.forward(out, mean, rstd, inp, weight, bias, EPS);
    } else {
      forwardNd4j(out, mean, rstd, inp, weight, bias);
    }
  }

  /**
   * {@link #forward} as ND4J ops (eight calls over the whole array): the float64 path, and the
   * reference and baseline of the fused kernel.
   */
  public static void forwardNd4j(INDArray out, INDArray mean, INDArray rstd, INDArray inp, INDArray weight,
      INDArray bias) {
    long c = inp.size(1);
    inp.mean(mean, 1);
    Kernels.broadcastSub(out, inp, Kernels.column(mean)); // centred input
    // var = |x - mean|^2 / C; ND4J's Variance reduction is ~8x slower than this squared norm.
    Nd4j.exec(new SquaredNorm(out, rstd, 1));
    rstd.muli(1.0 / c);
    rstd.addi(EPS);
    Nd4j.exec(new RSqrt(rstd, rstd));
    Kernels.broadcastMul(out, out, Kernels.column(rstd));
    Kernels.broadcastMul(out, out, weight);
    Kernels.broadcastAdd(out, out, bias);
  }

  /**
   * Backward pass; accumulates into {@code dinp}, {@code dweight} and {@code dbias}.
   * With xhat the normalised input and dnorm = dout * weight:
   * {@code dinp += rstd * (dnorm - mean(dnorm) - xhat * mean(dnorm * xhat))}.
   *
   * @param dinp    [N, C] accumulated; must not alias dout
   * @param dweight [C] accumulated
   * @param dbias   [C] accumulated
   * @param dout    [N, C]
   * @param inp     [N, C] the forward input
   * @param weight  [C]
   * @param mean    [N] from forward
   * @param rstd    [N] from forward
   * @param xhat    [N, C] scratch
   * @param tmp     [N, C] scratch
   * @param rowTmp  [N] scratch
   * @param ones    [1, >= N] all ones
   */
  public static void backward(INDArray dinp, INDArray dweight, INDArray dbias, INDArray dout,
      INDArray inp, INDArray weight, INDArray mean, INDArray rstd,
      INDArray xhat, INDArray tmp, INDArray rowTmp, INDArray ones) {
    if (Fused.accepts(dinp, dweight, dbias, dout, inp, weight, mean, rstd, xhat, tmp)) {
      // The kernel keeps its per-chunk sums of dweight and dbias in the two [N, C] scratch arrays.
      LayerNormKernel.backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, xhat, tmp);
    } else {
      backwardNd4j(dinp, dweight, dbias, dout, inp, weight, mean, rstd, xhat, tmp, rowTmp, ones);
    }
  }

  /** {@link #backward} as ND4J ops: the float64 path, and the reference and baseline of the fused kernel. */
  public static void backwardNd4j(INDArray dinp, INDArray dweight, INDArray dbias, INDArray dout,
      INDArray inp, INDArray weight, INDArray mean, INDArray rstd,
      INDArray xhat, INDArray tmp, INDArray rowTmp, INDArray ones) {
    INDArray meanCol = Kernels.column(mean); // [N, 1]
    INDArray rstdCol = Kernels.column(rstd); // [N, 1]
    INDArray rowCol = Kernels.column(rowTmp); // [N, 1]
    Kernels.broadcastSub(xhat, inp, meanCol);
    Kernels.broadcastMul(xhat, xhat, rstdCol);
    Kernels.addColumnSums(dbias, dout, ones, 1.0);
    dout.mul(xhat, tmp); // dout * xhat
    Kernels.addColumnSums(dweight, tmp, ones, 1.0);
    Kernels.broadcastMul(tmp, tmp, weight); // dnorm * xhat
    tmp.mean(rowTmp, 1);
    Kernels.broadcastMul(xhat, xhat, rowCol); // xhat * mean(dnorm * xhat)
    Kernels.broadcastMul(tmp, dout, weight); // dnorm
    tmp.mean(rowTmp, 1);
    Kernels.broadcastSub(tmp, tmp, rowCol); // dnorm - mean(dnorm)
    tmp.subi(xhat);
    Kernels.broadcastMul(tmp, tmp, rstdCol);
    dinp.addi(tmp);
  }
}
