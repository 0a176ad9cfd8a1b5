/*
 * Tests of Residual: the sum and its accumulating backward. Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ringtrain.ops.layers.LayerTestSupport.randn;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.SingleThreadedNd4j;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ResidualTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  @Test
  void forwardAddsAndBackwardAccumulatesIntoBothInputs() {
    INDArray a = randn(1, 1, 3, 4);
    INDArray b = randn(2, 1, 3, 4);
    INDArray out = Nd4j.create(DataType.DOUBLE, 3, 4);
    Residual.forward(out, a, b);
    assertEquals(0.0, out.sub(a.add(b)).amaxNumber().doubleValue(), 0.0);
    INDArray dout = randn(3, 1, 3, 4);
    INDArray da = Nd4j.ones(DataType.DOUBLE, 3, 4);
    INDArray db = Nd4j.zeros(DataType.DOUBLE, 3, 4);
    Residual.backward(da, db, dout);
    assertEquals(0.0, da.sub(dout.add(1.0)).amaxNumber().doubleValue(), 1e-15);
    assertEquals(0.0, db.sub(dout).amaxNumber().doubleValue(), 0.0);
  }
}
