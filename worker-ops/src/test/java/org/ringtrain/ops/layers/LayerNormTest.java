/*
 * Tests of LayerNorm: forward against the textbook formula with eps, backward against finite
 * differences. Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.layers.LayerTestSupport.project;
import static org.ringtrain.ops.layers.LayerTestSupport.randn;

import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LayerNormTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  @Test
  void forwardNormalisesEachRowWithEpsilon() {
    int n = 3;
    int c = 8;
    INDArray x = randn(1, 0.001, n, c); // tiny variance: eps must matter
    INDArray w = randn(2, 1, c);
    INDArray b = randn(3, 1, c);
    INDArray out = Nd4j.create(DataType.DOUBLE, n, c);
    LayerNorm.forward(out, Nd4j.create(DataType.DOUBLE, n), Nd4j.create(DataType.DOUBLE, n), x, w, b);
    for (int i = 0; i < n; i++) {
      double mean = 0;
      for (int j = 0; j < c; j++) {
        mean += x.getDouble(i, j) / c;
      }
      double var = 0;
      for (int j = 0; j < c; j++) {
        var += Math.pow(x.getDouble(i, j) - mean, 2) / c;
      }
      double rstd = 1 / Math.sqrt(var + 1e-5);
      for (int j = 0; j < c; j++) {
        double expected = (x.getDouble(i, j) - mean) * rstd * w.getDouble(j) + b.getDouble(j);
        assertEquals(expected, out.getDouble(i, j), 1e-12, "row " + i + " col " + j);
      }
    }
  }

  @Test
  void backwardMatchesFiniteDifferences() {
    int n = 6;
    int c = 8;
    INDArray x = randn(1, 1, n, c);
    INDArray w = randn(2, 1, c).addi(1.0);
    INDArray b = randn(3, 1, c);
    INDArray r = randn(4, 1, n, c);
    INDArray out = Nd4j.create(DataType.DOUBLE, n, c);
    INDArray mean = Nd4j.create(DataType.DOUBLE, n);
    INDArray rstd = Nd4j.create(DataType.DOUBLE, n);
    INDArray dx = Nd4j.zeros(DataType.DOUBLE, n, c);
    INDArray dw = Nd4j.zeros(DataType.DOUBLE, c);
    INDArray db = Nd4j.zeros(DataType.DOUBLE, c);
    LayerNorm.forward(out, mean, rstd, x, w, b);
    LayerNorm.backward(dx, dw, db, r, x, w, mean, rstd, Nd4j.create(DataType.DOUBLE, n, c),
        Nd4j.create(DataType.DOUBLE, n, c), Nd4j.create(DataType.DOUBLE, n), Nd4j.ones(DataType.DOUBLE, 1, n));
    GradCheck check = new GradCheck();
    DoubleSupplier f = () -> {
      LayerNorm.forward(out, mean.dup(), rstd.dup(), x, w, b);
      return project(out, r);
    };
    check.check("inp", x, dx, f, 100);
    check.check("weight", w, dw, f, 100);
    check.check("bias", b, db, f, 100);
    assertTrue(check.passed(), check.report());
  }
}
