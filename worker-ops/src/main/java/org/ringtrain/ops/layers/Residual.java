/*
 * Residual: the skip connection out = inp1 + inp2. Its backward is the identity for both inputs;
 * the model may skip calling it by letting both gradients share one buffer (see GptModel).
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.kernels.PairKernel;

/** {@code out = inp1 + inp2}, elementwise. */
public final class Residual {

  private Residual() {
  }

  /** Forward: out, inp1, inp2 all [N, C]. */
  public static void forward(INDArray out, INDArray inp1, INDArray inp2) {
    if (Fused.accepts(out, inp1, inp2) && inp1.length() == inp2.length()) {
      PairKernel.add(out, inp1, inp2); // the same float sums, without an ND4J op's dispatch
      return;
    }
    inp1.add(inp2, out);
  }

  /** Backward: {@code dinp1 += dout; dinp2 += dout}, all [N, C]; dout must not alias either. */
  public static void backward(INDArray dinp1, INDArray dinp2, INDArray dout) {
    dinp1.addi(dout);
    dinp2.addi(dout);
  }
}
