/*
 * Tests of Linear: forward against a plain matrix product, backward against finite differences, and
 * accumulation into parameter gradients. Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.layers.LayerTestSupport.project;
import static org.ringtrain.ops.layers.LayerTestSupport.randn;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LinearTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  @Test
  void forwardMatchesMatrixProductPlusBias() {
    INDArray x = randn(1, 1, 5, 4);
    INDArray w = randn(2, 1, 4, 3);
    INDArray b = randn(3, 1, 3);
    INDArray out = Nd4j.create(DataType.DOUBLE, 5, 3);
    Linear.forward(out, x, w, b);
    INDArray expected = x.mmul(w).addRowVector(b);
    assertEquals(0.0, out.sub(expected).amaxNumber().doubleValue(), 1e-12);
  }

  @Test
  void backwardMatchesFiniteDifferences() {
    INDArray x = randn(1, 1, 5, 4);
    INDArray w = randn(2, 1, 4, 3);
    INDArray b = randn(3, 1, 3);
    INDArray r = randn(4, 1, 5, 3);
    INDArray out = Nd4j.create(DataType.DOUBLE, 5, 3);
    INDArray dx = Nd4j.zeros(DataType.DOUBLE, 5, 4);
    INDArray dw = Nd4j.zeros(DataType.DOUBLE, 4, 3);
    INDArray db = Nd4j.zeros(DataType.DOUBLE, 3);
    Linear.forward(out, x, w, b);
    Linear.backward(dx, dw, db, r, x, w, Nd4j.ones(DataType.DOUBLE, 1, 5));
    GradCheck check = new GradCheck();
    java.util.function.DoubleSupplier f = () -> {
      Linear.forward(out, x, w, b);
      return project(out, r);
    };
    check.check("inp", x, dx, f, 100);
    check.check("weight", w, dw, f, 100);
    check.check("bias", b, db, f, 100);
    assertTrue(check.passed(), check.report());
  }

  @Test
  void backwardAccumulatesIntoGradients() {
    INDArray x = randn(1, 1, 5, 4);
    INDArray w = randn(2, 1, 4, 3);
    INDArray r = randn(4, 1, 5, 3);
    INDArray ones = Nd4j.ones(DataType.DOUBLE, 1, 5);
    INDArray dx = Nd4j.zeros(DataType.DOUBLE, 5, 4);
    INDArray dw = Nd4j.zeros(DataType.DOUBLE, 4, 3);
    INDArray db = Nd4j.zeros(DataType.DOUBLE, 3);
    Linear.backward(dx, dw, db, r, x, w, ones);
    INDArray once = dw.dup();
    INDArray onceB = db.dup();
    Linear.backward(dx, dw, db, r, x, w, ones);
    assertEquals(0.0, dw.sub(once.mul(2)).amaxNumber().doubleValue(), 1e-12);
    assertEquals(0.0, db.sub(onceB.mul(2)).amaxNumber().doubleValue(), 1e-12);
  }
}
