/*
 * Tests of BiasKernel: every row gets the bias bit for bit, and Linear's float32 forward (bias
 * written first, then gemm with beta = 1) matches its float64 composition. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertClose;
import static org.ringtrain.ops.kernels.KernelTestSupport.randn;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.layers.Linear;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BiasKernelTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  @Test
  void fillsEveryRowWithTheBias() {
    INDArray bias = randn(1, 0, 1, 37).castTo(DataType.FLOAT);
    INDArray out = randn(2, 0, 1, 35, 37).castTo(DataType.FLOAT);
    BiasKernel.fillRows(out, bias);
    for (int i = 0; i < 35; i++) {
      for (int j = 0; j < 37; j++) {
        assertEquals(Float.floatToRawIntBits(bias.getFloat(j)), Float.floatToRawIntBits(out.getFloat(i, j)),
            "row " + i + " col " + j);
      }
    }
  }

  @Test
  void linearForwardMatchesTheFloat64Composition() {
    INDArray x = randn(3, 0, 1, 21, 19);
    INDArray w = randn(4, 0, 0.3, 19, 45);
    INDArray b = randn(5, 0, 1, 45);
    INDArray want = Nd4j.create(DataType.DOUBLE, 21, 45);
    INDArray got = Nd4j.create(DataType.FLOAT, 21, 45);
    Linear.forward(want, x, w, b);
    Linear.forward(got, x.castTo(DataType.FLOAT), w.castTo(DataType.FLOAT), b.castTo(DataType.FLOAT));
    assertClose("out", want, got, 1e-6);
  }
}
