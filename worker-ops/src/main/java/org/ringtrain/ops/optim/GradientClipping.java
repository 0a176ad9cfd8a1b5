/*
 * GradientClipping: global-norm clipping of the whole flat gradient buffer, as PyTorch's
 * torch.nn.utils.clip_grad_norm_ does it. It is not per-tensor or per-value clipping.
 */
package org.ringtrain.ops.optim;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Scales all gradients by one factor so that their global L2 norm is at most {@code maxNorm}.
 * The global norm over every tensor, {@code sqrt(sum over tensors of |g_t|^2)}, is the plain L2
 * norm of the flat buffer, so it is one ND4J reduction.
 */
public final class GradientClipping {

  /** Added to the norm before dividing, as torch's clip_grad_norm_ does: 1e-6. */
  public static final double EPSILON = 1e-6;

  /** nanoGPT's default clip value: 1.0. */
  public static final double DEFAULT_MAX_NORM = 1.0;

  private GradientClipping() {
  }

  /**
   * Clips {@code grads} in place to global norm {@code maxNorm}: when the norm exceeds it, every
   * element is multiplied by {@code maxNorm / (norm + 1e-6)}. A non-finite norm leaves the
   * gradients untouched, so that the caller can see it in the return value and skip the step.
   *
   * @param grads   the flat gradient buffer (any float array; all of it is clipped)
   * @param maxNorm the largest allowed norm, finite and &gt; 0 (nanoGPT uses {@link #DEFAULT_MAX_NORM})
   * @return the global norm before clipping (log it: spikes announce instability)
   */
  public static double clipGlobalNorm(INDArray grads, double maxNorm) {
    if (!(maxNorm > 0.0) || Double.isInfinite(maxNorm)) {
      throw new IllegalArgumentException("maxNorm must be finite and > 0, but found maxNorm=" + maxNorm
          + "; to disable clipping, do not call clipGlobalNorm");
    }
    if (grads == null) {
      throw new IllegalArgumentException("grads must not be null; pass the flat gradient buffer");
    }
    double norm = grads.norm2Number().doubleValue();
    if (Double.isFinite(norm) && norm > maxNorm) {
      grads.muli(maxNorm / (norm + EPSILON));
    }
    return norm;
  }

  /** The global L2 norm of {@code grads}, without changing them. */
  public static double globalNorm(INDArray grads) {
    if (grads == null) {
      throw new IllegalArgumentException("grads must not be null; pass the flat gradient buffer");
    }
    return grads.norm2Number().doubleValue();
  }
}
