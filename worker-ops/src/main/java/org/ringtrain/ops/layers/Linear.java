/*
 * Linear: the affine map y = x @ W + b with GPT-2's [in, out] weight layout (Conv1D). In float32
 * the bias is written into the output first and the gemm adds x @ W to it (beta = 1), so the bias
 * costs one write pass and no separate add. It is not the tied LM head (see TiedLmHead) and has no
 * activation.
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.kernels.BiasKernel;
import org.ringtrain.ops.kernels.Fused;

/** {@code out = inp @ weight + bias} over the rows of a 2-D activation. */
public final class Linear {

  private Linear() {
  }

  /**
   * Forward pass.
   *
   * @param out    [N, OC] output, overwritten
   * @param inp    [N, IC]
   * @param weight [IC, OC]
   * @param bias   [OC], or null for none
   */
  public static void forward(INDArray out, INDArray inp, INDArray weight, INDArray bias) {
    if (bias != null && Fused.accepts(out, bias)) {
      BiasKernel.fillRows(out, bias);
      Kernels.gemm(out, inp, weight, false, false, 1.0, 1.0);
      return;
    }
    forwardNd4j(out, inp, weight, bias);
  }

  /**
   * {@link #forward} with the bias added by an ND4J broadcast after the gemm: the float64 path,
   * and the baseline of the fused bias.
   */
  public static void forwardNd4j(INDArray out, INDArray inp, INDArray weight, INDArray bias) {
    Kernels.gemm(out, inp, weight, false, false, 1.0, 0.0);
    if (bias != null) {
      Kernels.broadcastAdd(out, out, bias);
    }
  }

  /**
   * Backward pass: overwrites {@code dinp}, accumulates into {@code dweight} and {@code dbias}.
   *
   * @param dinp    [N, IC] gradient of the input, overwritten
   * @param dweight [IC, OC] accumulated, or null for a frozen weight (its gemm is skipped)
   * @param dbias   [OC] accumulated, or null when the forward had no bias or the bias is frozen
   * @param dout    [N, OC] gradient of the output
   * @param inp     [N, IC] the forward input
   * @param weight  [IC, OC]
   * @param ones    [1, >= N] all ones
   */
  public static void backward(INDArray dinp, INDArray dweight, INDArray dbias, INDArray dout,
      INDArray inp, INDArray weight, INDArray ones) {
    Kernels.gemm(dinp, dout, weight, false, true, 1.0, 0.0);
    if (dweight != null) {
      Kernels.gemm(dweight, inp, dout, true, false, 1.0, 1.0);
    }
    if (dbias != null) {
      Kernels.addColumnSums(dbias, dout, ones, 1.0);
    }
  }
}
