/*
 * Tests of GeluKernel: float32 results against Gelu's ND4J composition in float64, across chunk
 * and vector boundaries and into saturation, and the same bits on any thread count. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.ringtrain.ops.kernels.KernelTestSupport.assertClose;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertSameBits;
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
import org.ringtrain.ops.layers.Gelu;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GeluKernelTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /** {out, sig, dinp} of forward then backward in {@code type}. */
  private static INDArray[] run(INDArray x, INDArray dy, DataType type) {
    INDArray xt = x.castTo(type);
    INDArray out = Nd4j.create(type, x.shape());
    INDArray sig = Nd4j.create(type, x.shape());
    INDArray dx = Nd4j.create(type, x.shape());
    Gelu.forward(out, sig, xt);
    Gelu.backward(dx, dy.castTo(type), xt, sig, Nd4j.create(type, x.shape()));
    return new INDArray[] {out, sig, dx};
  }

  @Test
  void matchesTheFloat64CompositionAcrossChunksAndIntoSaturation() {
    // 7 x 5003 spans three chunks and ends off a vector boundary; std 4 reaches |x| > 10.
    for (long[] shape : new long[][] {{1, 3}, {5, 17}, {7, 5003}}) {
      INDArray x = randn(1, 0.0, 4.0, shape);
      INDArray dy = randn(2, 0.0, 1.0, shape);
      INDArray[] want = run(x, dy, DataType.DOUBLE);
      INDArray[] got = run(x, dy, DataType.FLOAT);
      String at = " " + shape[0] + "x" + shape[1];
      assertClose("out" + at, want[0], got[0], 1e-6);
      assertClose("sig" + at, want[1], got[1], 1e-6);
      // gelu'(x) = s + x 2u' s (1 - s) cancels for negative x: a few float32 ulps of its terms.
      assertClose("dinp" + at, want[2], got[2], 1e-5);
    }
  }

  @Test
  void givesTheSameBitsOnAnyThreadCount() {
    INDArray x = randn(3, 0.0, 2.0, 9, 4001);
    INDArray dy = randn(4, 0.0, 1.0, 9, 4001);
    INDArray[][] results = new INDArray[2][];
    withThreads(1, () -> results[0] = run(x, dy, DataType.FLOAT));
    withThreads(3, () -> results[1] = run(x, dy, DataType.FLOAT));
    for (int i = 0; i < 3; i++) {
      assertSameBits("result " + i, results[0][i], results[1][i]);
    }
  }
}
