/*
 * Gelu: GPT-2's tanh-approximation GELU, composed from ND4J elementwise ops. It is not ND4J's GELU
 * (the sigmoid form x * sigmoid(1.702 x)) nor its PreciseGELU (which drops the cubic term).
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.SigmoidDerivative;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.factory.Nd4j;

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
   * @param inp [N, D]
   */
  public static void forward(INDArray out, INDArray inp) {
    twoU(out, inp);
    Nd4j.exec(new Sigmoid(out, out));
    out.muli(inp);
  }

  /**
   * Backward pass; overwrites {@code dinp}. With s = sigmoid(2u):
   * {@code gelu'(x) = s + x * s (1 - s) * 2u'(x)}, {@code 2u'(x) = 2k (1 + 3 * 0.044715 x^2)}.
   *
   * @param dinp [N, D] overwritten; may be the same array as tmpA
   * @param dout [N, D]
   * @param inp  [N, D] the forward input
   * @param tmpA [N, D] scratch
   * @param tmpB [N, D] scratch
   */
  public static void backward(INDArray dinp, INDArray dout, INDArray inp, INDArray tmpA, INDArray tmpB) {
    inp.mul(inp, tmpB);
    tmpB.muli(2 * K * 3 * CUBIC);
    tmpB.addi(2 * K);
    tmpB.muli(inp); // x * 2u'
    twoU(tmpA, inp);
    Nd4j.exec(new SigmoidDerivative(tmpA, tmpB, tmpB)); // x * 2u' * s (1 - s)
    Nd4j.exec(new Sigmoid(tmpA, tmpA)); // s
    tmpA.addi(tmpB); // gelu'(x)
    tmpA.mul(dout, dinp);
  }

  /** {@code out = 2u = 2k (x + 0.044715 x^3)}, in three passes. */
  private static void twoU(INDArray out, INDArray inp) {
    inp.mul(inp, out);
    out.muli(2 * K * CUBIC);
    out.addi(2 * K);
    out.muli(inp);
  }
}
