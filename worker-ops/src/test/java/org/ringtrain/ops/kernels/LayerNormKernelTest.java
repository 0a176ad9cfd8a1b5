/*
 * Tests of LayerNormKernel: float32 results against LayerNorm's ND4J composition in float64, on
 * widths that are not a multiple of the vector length and row counts that are not a multiple of
 * the chunk, and the same bits on any thread count. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertClose;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertSameBits;
import static org.ringtrain.ops.kernels.KernelTestSupport.f32;
import static org.ringtrain.ops.kernels.KernelTestSupport.randn;
import static org.ringtrain.ops.kernels.KernelTestSupport.withThreads;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.layers.LayerNorm;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LayerNormKernelTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /** Forward and backward of one (n, c) case; returns {out, mean, rstd, dinp, dweight, dbias} in float32. */
  private static INDArray[] run(INDArray x, INDArray w, INDArray b, INDArray dy, DataType type) {
    long n = x.size(0);
    long c = x.size(1);
    INDArray out = Nd4j.create(type, n, c);
    INDArray mean = Nd4j.create(type, n);
    INDArray rstd = Nd4j.create(type, n);
    INDArray dx = Nd4j.ones(type, n, c).muli(0.5); // backward accumulates onto what is there
    INDArray dw = Nd4j.ones(type, c).muli(0.25);
    INDArray db = Nd4j.ones(type, c).muli(-0.25);
    INDArray xt = x.castTo(type);
    INDArray wt = w.castTo(type);
    INDArray dyt = dy.castTo(type);
    LayerNorm.forward(out, mean, rstd, xt, wt, b.castTo(type));
    LayerNorm.backward(dx, dw, db, dyt, xt, wt, mean, rstd, Nd4j.create(type, n, c), Nd4j.create(type, n, c),
        Nd4j.create(type, n), Nd4j.ones(type, 1, n));
    return new INDArray[] {out, mean, rstd, dx, dw, db};
  }

  @Test
  void matchesTheFloat64CompositionOnOddShapes() {
    assertTrue(Fused.AVAILABLE, "the test JVM must have jdk.incubator.vector (surefire's argLine)");
    String[] names = {"out", "mean", "rstd", "dinp", "dweight", "dbias"};
    for (long[] nc : new long[][] {{1, 1}, {3, 5}, {35, 37}, {40, 64}, {17, 384}}) {
      INDArray x = randn(1, 0.3, 2.0, nc[0], nc[1]);
      INDArray w = randn(2, 1.0, 0.1, nc[1]);
      INDArray b = randn(3, 0.0, 0.1, nc[1]);
      INDArray dy = randn(4, 0.0, 1.0, nc[0], nc[1]);
      INDArray[] want = run(x, w, b, dy, DataType.DOUBLE);
      INDArray[] got = run(x, w, b, dy, DataType.FLOAT);
      for (int i = 0; i < names.length; i++) {
        // Sums of up to n * c float32 terms; 1e-5 relative is ~100 ulps of float32.
        assertClose(names[i] + " " + nc[0] + "x" + nc[1], want[i], got[i], 2e-5);
      }
    }
  }

  @Test
  void givesTheSameBitsOnAnyThreadCount() {
    INDArray x = randn(5, 0.0, 1.0, 67, 48);
    INDArray w = randn(6, 1.0, 0.1, 48);
    INDArray b = randn(7, 0.0, 0.1, 48);
    INDArray dy = randn(8, 0.0, 1.0, 67, 48);
    INDArray[] one = new INDArray[6];
    INDArray[] three = new INDArray[6];
    withThreads(1, () -> System.arraycopy(run(x, w, b, dy, DataType.FLOAT), 0, one, 0, 6));
    withThreads(3, () -> System.arraycopy(run(x, w, b, dy, DataType.FLOAT), 0, three, 0, 6));
    for (int i = 0; i < 6; i++) {
      assertSameBits("result " + i, one[i], three[i]);
    }
  }

  @Test
  void refusesArraysItCannotLoopOver() {
    INDArray dense = f32(randn(9, 0, 1, 4, 6));
    assertTrue(Fused.accepts(dense, dense.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3),
        org.nd4j.linalg.indexing.NDArrayIndex.all())), "a row range is dense");
    assertTrue(!Fused.accepts(dense.castTo(DataType.DOUBLE)), "float64 goes to ND4J");
    assertTrue(!Fused.accepts(dense.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3))), "a column range has gaps");
    assertTrue(!Fused.accepts(dense.transpose()), "a transpose is not row-major");
  }
}
