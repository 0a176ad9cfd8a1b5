/*
 * FlatOps: the two element-wise kernels the optimizers run on flat buffers and their ranges,
 * y += alpha * x and x *= alpha, each picked so that every machine computes bitwise the same
 * result. It is not a general maths helper; everything else goes straight to ND4J.
 */
package org.ringtrain.ops.optim;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Element-wise kernels whose results do not depend on the CPU model or thread count, so that ranks
 * on different executors apply bitwise the same update to the same all-reduced gradients.
 *
 * <p>Why these kernels: OpenBLAS picks its {@code saxpy} kernel by CPU model, and its kernels for
 * CPUs with FMA round {@code y + alpha * x} once where the others round twice, so BLAS axpy may
 * differ in the last bit between executors. ND4J's own {@code Axpy} transform is one build for
 * every CPU of a classifier. BLAS {@code scal} is safe: one multiplication per element is
 * correctly rounded by every kernel, and on views it measured several times faster here than
 * {@code INDArray.muli}.
 */
final class FlatOps {

  private FlatOps() {
  }

  /** {@code y += alpha * x}, element-wise; {@code x} and {@code y} are contiguous and of equal length. */
  static void axpy(double alpha, INDArray x, INDArray y) {
    Nd4j.getExecutioner().exec(new Axpy(x, y, y, alpha));
  }

  /** {@code x *= alpha}, element-wise, in place; {@code x} is contiguous (a view is fine). */
  static void scale(INDArray x, double alpha) {
    Nd4j.getBlasWrapper().level1().scal(x.length(), alpha, x);
  }
}
