/*
 * Tests of PairKernel: sums and products against ND4J's pairwise ops bit for bit, on lengths that
 * do not divide into vector lanes or chunks, with the output aliasing an input, at one and two
 * threads; mismatched lengths are refused. Test code only.
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

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PairKernelTest {

  @Test
  void sumsAndProductsHaveTheBitsOfNd4jsOps() {
    for (int threads : new int[] {1, 2}) {
      KernelTestSupport.withThreads(threads, () -> {
        for (long n : new long[] {1, 7, PairKernel.CHUNK + 13, 3 * PairKernel.CHUNK}) {
          INDArray x = KernelTestSupport.f32(KernelTestSupport.randn(11, 0, 1, n, 1));
          INDArray y = KernelTestSupport.f32(KernelTestSupport.randn(12, 0, 1, n, 1));
          INDArray sum = Nd4j.create(DataType.FLOAT, n, 1);
          PairKernel.add(sum, x, y);
          KernelTestSupport.assertSameBits("x + y, n " + n, x.add(y), sum);
          INDArray product = x.dup();
          PairKernel.mul(product, product, y); // out aliases x
          KernelTestSupport.assertSameBits("x * y, n " + n, x.mul(y), product);
        }
      });
    }
  }

  @Test
  void mismatchedLengthsAreRefused() {
    INDArray x = Nd4j.zeros(DataType.FLOAT, 4, 3);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PairKernel.add(x, x, Nd4j.zeros(DataType.FLOAT, 1, 3)));
    assertTrue(e.getMessage().contains("expected three arrays of one length"), e.getMessage());
  }
}
