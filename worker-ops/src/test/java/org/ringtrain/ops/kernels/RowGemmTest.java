/*
 * Tests of RowGemm: products on row ranges against Nd4j.gemm on the same rows as views, both
 * orientations of b, overwrite and accumulate; whole products with every transpose pair against
 * Nd4j.gemm, bit for bit. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RowGemmTest {

  private static INDArray rows(INDArray a, long from, long count) {
    return a.get(NDArrayIndex.interval(from, from + count), NDArrayIndex.all());
  }

  @Test
  void theCpuBackendGetsTheDirectCall() {
    assertTrue(RowGemm.AVAILABLE, "the tests run on nd4j-native, whose Nd4j.gemm calls the same cblas_sgemm");
  }

  @Test
  void rowRangesGiveTheSameBitsAsNd4jGemmOnViews() {
    int m = 5;
    int k = 7;
    int n = 12;
    INDArray a = KernelTestSupport.f32(KernelTestSupport.randn(1, 0, 1, 4 * m, k));
    INDArray b = KernelTestSupport.f32(KernelTestSupport.randn(2, 0, 1, k, n));
    INDArray bt = b.transpose().dup();
    INDArray c0 = KernelTestSupport.f32(KernelTestSupport.randn(3, 0, 1, 3 * m, n));
    for (float beta : new float[] {0f, 1f}) {
      INDArray want = c0.dup();
      Nd4j.gemm(rows(a, 2 * m, m), b, rows(want, m, m), false, false, 1.0, beta);
      INDArray got = c0.dup();
      RowGemm.gemm(got, m, a, 2 * m, b, false, m, beta);
      KernelTestSupport.assertSameBits("c = a b, beta " + beta, want, got);
      INDArray gotT = c0.dup();
      RowGemm.gemm(gotT, m, a, 2 * m, bt, true, m, beta);
      KernelTestSupport.assertClose("c = a (b^T)^T, beta " + beta, want, gotT, 1e-6);
    }
  }

  @Test
  void wholeMatmulsGiveTheSameBitsAsNd4jGemmForEveryTranspose() {
    int m = 9;
    int k = 6;
    int n = 11;
    INDArray c0 = KernelTestSupport.f32(KernelTestSupport.randn(4, 0, 1, m, n));
    for (boolean transA : new boolean[] {false, true}) {
      for (boolean transB : new boolean[] {false, true}) {
        INDArray a = KernelTestSupport.f32(KernelTestSupport.randn(5, 0, 1, transA ? k : m, transA ? m : k));
        INDArray b = KernelTestSupport.f32(KernelTestSupport.randn(6, 0, 1, transB ? n : k, transB ? k : n));
        for (float beta : new float[] {0f, 1f}) {
          INDArray want = c0.dup();
          Nd4j.gemm(a, b, want, transA, transB, 0.5, beta);
          INDArray got = c0.dup();
          RowGemm.matmul(got, a, transA, b, transB, 0.5f, beta);
          KernelTestSupport.assertSameBits("transA " + transA + ", transB " + transB + ", beta " + beta, want, got);
        }
      }
    }
  }

  @Test
  void aMismatchedMatmulIsRefusedWithTheShapes() {
    INDArray c = Nd4j.zeros(DataType.FLOAT, 4, 5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RowGemm.matmul(c, Nd4j.zeros(DataType.FLOAT, 4, 3), false, Nd4j.zeros(DataType.FLOAT, 2, 5), false, 1f, 0f));
    assertTrue(e.getMessage().contains("expected op(a) [4, 3] and op(b) [3, 5]"), e.getMessage());
  }

  @Test
  void aMismatchedBIsRefusedWithTheShapes() {
    INDArray a = Nd4j.zeros(DataType.FLOAT, 4, 3);
    INDArray c = Nd4j.zeros(DataType.FLOAT, 4, 5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RowGemm.gemm(c, 0, a, 0, Nd4j.zeros(DataType.FLOAT, 5, 3), false, 4, 0f));
    assertTrue(e.getMessage().contains("expected b of shape [3, 5]"), e.getMessage());
  }
}
