/*
 * Gelu: GPT-2's tanh-approximation GELU. float32 arrays go to the fused kernel
 * (org.ringtrain.ops.kernels.GeluKernel, one pass each way); float64 arrays, and every array when
 * the kernels are off, to a composition of ND4J elementwise ops. It is not ND4J's GELU (the
 * sigmoid form x * sigmoid(1.702 x)) nor its PreciseGELU (which drops the cubic term).
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.kernels.GeluKernel;
import org.ringtrain.ops.kernels.PairKernel;

/**
 * {@code gelu(x) = 0.5 x (1 + tanh(u))}, {@code u = sqrt(2/pi) (x + 0.044715 x^3)}
 * (Hendrycks and Gimpel, arXiv:1606.08415, as in GPT-2). Computed as {@code x * sigmoid(2u)},
 * which is the same function because {@code 0.5 (1 + tanh(u)) = sigmoid(2u)}.
 */
public final class Gelu {

  private static final double K = Math.sqrt(2.0 / Math.PI);
  private static final double CUBIC = 0.044715;

  private Gelu() {
  }

  /**
   * Forward pass.
   *
   * @param out [N, D] output, overwritten; must not alias inp
   * @param sig [N, D] sigmoid(2u), saved for backward (it makes the backward free of
   *            transcendental functions, which cost ~10x a multiply here)
   * @param inp [N, D]
   */
  public static void forward(INDArray out, INDArray sig, INDArray inp) {
    if (Fused.accepts(out, sig, inp)) {
      GeluKernel.forward(out, sig, inp);
    } else {
      forwardNd4j(out, sig, inp);
    }
  }

  /** {@link #forward} as ND4J ops: the float64 path, and the reference and baseline of the fused kernel. */
  public static void forwardNd4j(INDArray out, INDArray sig, INDArray inp) {
    twoU(sig, inp);
    Nd4j.exec(new Sigmoid(sig, sig));
    inp.mul(sig, out);
  }

  /**
   * Backward pass; overwrites {@code dinp}. With s = sigmoid(2u) from forward:
   * {@code gelu'(x) = s + x * s (1 - s) * 2u'(x)}, {@code 2u'(x) = 2k (1 + 3 * 0.044715 x^2)}.
   *
   * @param dinp [N, D] overwritten
   * @param dout [N, D]
   * @param inp  [N, D] the forward input
   * @param sig  [N, D] from forward
   * @param tmp  [N, D] scratch (the fused kernel needs none)
   */
  public static void backward(INDArray dinp, INDArray dout, INDArray inp, INDArray sig, INDArray tmp) {
    if (Fused.accepts(dinp, dout, inp, sig)) {
      GeluKernel.backward(dinp, dout, inp, sig);
    } else {
      backwardNd4j(dinp, dout, inp, sig, tmp);
    }
  }

  /** {@link #backward} as ND4J ops: the float64 path, and the reference and baseline of the fused kernel. */
  public static void backwardNd4j(INDArray dinp, INDArray dout, INDArray inp, INDArray sig, INDArray tmp) {
    inp.mul(inp, tmp);
    tmp.muli(2 * K * 3 * CUBIC);
    tmp.addi(2 * K);
    tmp.muli(inp); // x * 2u'
    sig.rsub(1.0, dinp); // 1 - s
    dinp.muli(sig);
    dinp.muli(tmp); // x * 2u' * s (1 - s)
    dinp.addi(sig); // gelu'(x)
    dinp.muli(dout);
  }

  /** {@code out = 2u = 2k (x + 0.044715 x^3)}, in three passes. */
  /**
   * GELU's output again from what forward kept, {@code out = inp * sig} (backward recomputes it
   * rather than keeping it).
   *
   * @param out [N, F] overwritten
   * @param inp [N, F] forward's input
   * @param sig [N, F] forward's {@code sig}
   */
  public static void output(INDArray out, INDArray inp, INDArray sig) {
    if (Fused.accepts(out, inp, sig) && inp.length() == sig.length()) {
      PairKernel.mul(out, inp, sig);
    } else {
      inp.mul(sig, out);
    }
  }

  private static void twoU(INDArray out, INDArray inp) {
    inp.mul(inp, out);
    out.muli(2 * K * CUBIC);
    out.addi(2 * K);
    out.muli(inp);
  }
}
