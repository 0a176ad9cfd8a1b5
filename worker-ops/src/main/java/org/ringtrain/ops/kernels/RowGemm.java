/*
 * RowGemm: a float32 matrix product on row ranges of dense arrays, handed straight to the
 * cblas_sgemm that ND4J's CPU backend itself calls, without building ND4J views. It is for the
 * small per-time-step products of a recurrence (the LSTM's [B, H] x [H, 4H]), where ND4J's view
 * and wrapper overhead cost several times the product; whole-batch matmuls keep using ND4J.
 */
package org.ringtrain.ops.kernels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code c[cRow .. cRow+M-1, :] = a[aRow .. aRow+M-1, :] @ op(b) + beta * c[...]} on dense row-major
 * float32 arrays, op(b) = b or b^T.
 *
 * <p>The call goes to {@code org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm}, the
 * function ND4J's {@code CpuLevel3.sgemm} calls for {@code Nd4j.gemm} on the CPU backend, so the
 * library, its thread count and its results are the ones {@code Nd4j.gemm} gives; only the view
 * objects and argument checks in between are skipped (measured several times the cost of a
 * [32, 64] x [64, 256] product itself). It is looked up reflectively: with another backend (CUDA),
 * or without that class, {@link #AVAILABLE} is false and {@link #gemm} runs {@code Nd4j.gemm} on
 * views instead.
 */
public final class RowGemm {

  private static final Logger LOG = LoggerFactory.getLogger(RowGemm.class);
  private static final int ROW_MAJOR = 101;
  private static final int NO_TRANS = 111;
  private static final int TRANS = 112;
  private static final MethodHandle SGEMM = lookUp();

  /** Whether the direct cblas_sgemm path is used in this JVM; decided once. */
  public static final boolean AVAILABLE = SGEMM != null;

  private RowGemm() {
  }

  private static MethodHandle lookUp() {
    String level3 = Nd4j.getBlasWrapper().level3().getClass().getName();
    if (!level3.equals("org.nd4j.linalg.cpu.nativecpu.blas.CpuLevel3")) {
      LOG.debug("RowGemm uses Nd4j.gemm: the BLAS backend is {}, not the CPU backend's OpenBLAS", level3);
      return null;
    }
    try {
      Class<?> blas = Class.forName("org.bytedeco.openblas.global.openblas_nolapack");
      return MethodHandles.publicLookup().findStatic(blas, "cblas_sgemm", MethodType.methodType(void.class,
          int.class, int.class, int.class, int.class, int.class, int.class, float.class, FloatPointer.class,
          int.class, FloatPointer.class, int.class, float.class, FloatPointer.class, int.class));
    } catch (ReflectiveOperationException | LinkageError e) {
      LOG.warn("RowGemm uses Nd4j.gemm: OpenBLAS's cblas_sgemm is not reachable ({})", e.toString());
      return null;
    }
  }

  /**
   * Rows {@code [cRow, cRow + rows)} of {@code c} = rows {@code [aRow, aRow + rows)} of {@code a}
   * times {@code b} (or {@code b^T} when {@code transB}), plus {@code beta} times their old value.
   * All three arrays must be accepted by {@link Fused#accepts} and 2-D.
   *
   * @param c      [*, N] rows cRow.. written
   * @param cRow   first row of c
   * @param a      [*, K] rows aRow.. read
   * @param aRow   first row of a
   * @param b      [K, N], or [N, K] when transB
   * @param transB whether to use b transposed
   * @param rows   M, the rows to compute
   * @param beta   0 to overwrite, 1 to accumulate
   */
  public static void gemm(INDArray c, long cRow, INDArray a, long aRow, INDArray b, boolean transB, int rows,
      float beta) {
    int n = (int) c.size(1);
    int k = (int) a.size(1);
    if (b.size(transB ? 1 : 0) != k || b.size(transB ? 0 : 1) != n) {
      throw new IllegalArgumentException("RowGemm: expected b of shape [" + (transB ? n + ", " + k : k + ", " + n)
          + "] for a [*, " + k + "] and c [*, " + n + "] (transB=" + transB + "), but found "
          + Arrays.toString(b.shape()) + "; pass matching arrays");
    }
    if (SGEMM == null) {
      Nd4j.gemm(rowRange(a, aRow, rows), b, rowRange(c, cRow, rows), false, transB, 1.0, beta);
      return;
    }
    try {
      SGEMM.invokeExact(ROW_MAJOR, NO_TRANS, transB ? TRANS : NO_TRANS, rows, n, k, 1f, pointer(a, aRow * k), k,
          pointer(b, 0), transB ? k : n, beta, pointer(c, cRow * n), n);
    } catch (Throwable t) {
      throw new IllegalStateException("cblas_sgemm failed on [" + rows + ", " + k + "] x [" + k + ", " + n + "]: " + t, t);
    }
  }

  /**
   * {@code c = alpha * op(a) @ op(b) + beta * c} on whole 2-D dense row-major float32 arrays, the
   * product {@code Nd4j.gemm(a, b, c, transA, transB, alpha, beta)} computes, by the same
   * cblas_sgemm call without ND4J's argument objects. Only when {@link #AVAILABLE}; all three
   * arrays accepted by {@link Fused#accepts}.
   *
   * @param c      [M, N]
   * @param a      [M, K], or [K, M] when transA
   * @param b      [K, N], or [N, K] when transB
   */
  public static void matmul(INDArray c, INDArray a, boolean transA, INDArray b, boolean transB, float alpha,
      float beta) {
    int m = (int) c.size(0);
    int n = (int) c.size(1);
    int k = (int) a.size(transA ? 0 : 1);
    if (a.size(transA ? 1 : 0) != m || b.size(transB ? 1 : 0) != k || b.size(transB ? 0 : 1) != n) {
      throw new IllegalArgumentException("RowGemm: expected op(a) [" + m + ", " + k + "] and op(b) [" + k + ", " + n
          + "] for c [" + m + ", " + n + "], but found a " + Arrays.toString(a.shape()) + " (transA=" + transA
          + ") and b " + Arrays.toString(b.shape()) + " (transB=" + transB + "); pass matching arrays");
    }
    if (m == 0 || n == 0) {
      return;
    }
    sgemm(transA, transB, m, n, k, alpha, pointer(a, 0), (int) a.size(1), pointer(b, 0), (int) b.size(1), beta,
        pointer(c, 0), n);
  }

  /**
   * The raw row-major {@code cblas_sgemm} call, for the other direct-call kernels of this package
   * (HeadGemm); only when {@link #AVAILABLE}.
   */
  static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatPointer a, int lda,
      FloatPointer b, int ldb, float beta, FloatPointer c, int ldc) {
    try {
      SGEMM.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda,
          b, ldb, beta, c, ldc);
    } catch (Throwable t) {
      throw new IllegalStateException("cblas_sgemm failed on [" + m + ", " + k + "] x [" + k + ", " + n + "]: " + t, t);
    }
  }

  /** A pointer to element {@code first} of dense array {@code a}. */
  static FloatPointer pointer(INDArray a, long first) {
    FloatPointer p = new FloatPointer(a.data().addressPointer());
    p.position(a.offset() - a.data().originalOffset() + first); // see Fused.floats
    return p;
  }

  private static INDArray rowRange(INDArray a, long from, int rows) {
    return a.get(NDArrayIndex.interval(from, from + rows),
        NDArrayIndex.all());
  }
}
