/*
 * TiedLmHead: the language-model head whose weight is the token embedding wte itself (GPT-2 ties
 * them), so logits = x @ wte^T. It is not the loss (see SoftmaxCrossEntropy).
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code logits = inp @ wte^T}, no bias. */
public final class TiedLmHead {

  private TiedLmHead() {
  }

  /**
   * Forward pass.
   *
   * @param logits [N, V] output, overwritten
   * @param inp    [N, C]
   * @param wte    [V, C]
   */
  public static void forward(INDArray logits, INDArray inp, INDArray wte) {
    Kernels.gemm(logits, inp, wte, false, true, 1.0, 0.0);
  }

  /**
   * Backward pass: overwrites {@code dinp}, accumulates into {@code dwte}.
   *
   * @param dinp    [N, C] overwritten
   * @param dwte    [V, C] accumulated (the same buffer the Encoder's backward adds to), or null when
   *                wte is frozen (its gemm is skipped)
   * @param dlogits [N, V]
   * @param inp     [N, C] the forward input
   * @param wte     [V, C]
   */
  public static void backward(INDArray dinp, INDArray dwte, INDArray dlogits, INDArray inp, INDArray wte) {
    Kernels.gemm(dinp, dlogits, wte, false, false, 1.0, 0.0);
    if (dwte != null) {
      Kernels.gemm(dwte, dlogits, inp, true, false, 1.0, 1.0);
    }
  }
}
