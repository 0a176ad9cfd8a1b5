/*
 * Tests of ColumnSumKernel through Kernels.addColumnSums: float32 against the float64 sums, on
 * row counts across chunk boundaries and widths off the vector length, with alpha and onto
 * existing values, and the same bits on any thread count. Test code only.
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
import org.ringtrain.ops.layers.Kernels;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ColumnSumKernelTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static INDArray sums(INDArray inp, double alpha, DataType type) {
    INDArray out = Nd4j.ones(type, inp.size(1)).muli(0.5);
    Kernels.addColumnSums(out, inp.castTo(type), Nd4j.ones(type, 1, inp.size(0)), alpha);
    return out;
  }

  @Test
  void matchesTheFloat64Sums() {
    for (long[] mn : new long[][] {{1, 1}, {31, 17}, {33, 17}, {100, 384}}) {
      for (double alpha : new double[] {1.0, -0.25}) {
        INDArray inp = randn(mn[0] + mn[1], 0.1, 1.0, mn[0], mn[1]);
        // Sums of up to 100 float32 terms of size ~1 that cancel: float32 rounding of ~1e-5 of the
        // terms' total (the sums themselves may be near 0).
        assertClose(mn[0] + "x" + mn[1] + " alpha " + alpha, sums(inp, alpha, DataType.DOUBLE),
            sums(inp, alpha, DataType.FLOAT), 1e-5);
      }
    }
  }

  @Test
  void givesTheSameBitsOnAnyThreadCount() {
    INDArray inp = randn(7, 0, 1, 200, 45);
    INDArray[] got = new INDArray[2];
    withThreads(1, () -> got[0] = sums(inp, 1.0, DataType.FLOAT));
    withThreads(3, () -> got[1] = sums(inp, 1.0, DataType.FLOAT));
    assertSameBits("sums", got[0], got[1]);
  }
}
