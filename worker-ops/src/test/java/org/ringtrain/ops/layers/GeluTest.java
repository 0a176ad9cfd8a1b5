/*
 * Tests of Gelu: GPT-2's tanh form (not ND4J's approximations) and its backward against finite
 * differences. Test code only.
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
class GeluTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static double gpt2Gelu(double x) {
    return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  }

  @Test
  void forwardIsGpt2TanhFormNotNd4jApproximations() {
    double[] xs = {-3, -1, -0.5, 0, 0.5, 1, 2, 4};
    INDArray x = Nd4j.createFromArray(xs).reshape(1, xs.length);
    INDArray out = Nd4j.create(DataType.DOUBLE, 1, xs.length);
    Gelu.forward(out, Nd4j.create(DataType.DOUBLE, 1, xs.length), x);
    for (int i = 0; i < xs.length; i++) {
      assertEquals(gpt2Gelu(xs[i]), out.getDouble(0, i), 1e-14, "gelu(" + xs[i] + ")");
    }
    assertEquals(0.8411919906082768, out.getDouble(0, 5), 1e-12, "gelu(1) of GPT-2 / PyTorch tanh form");
  }

  @Test
  void backwardMatchesFiniteDifferences() {
    INDArray x = randn(1, 2, 4, 16);
    INDArray r = randn(2, 1, 4, 16);
    INDArray out = Nd4j.create(DataType.DOUBLE, 4, 16);
    INDArray sig = Nd4j.create(DataType.DOUBLE, 4, 16);
    INDArray dx = Nd4j.zeros(DataType.DOUBLE, 4, 16);
    Gelu.forward(out, sig, x);
    Gelu.backward(dx, r, x, sig, Nd4j.create(DataType.DOUBLE, 4, 16));
    GradCheck check = new GradCheck();
    check.check("inp", x, dx, () -> {
      Gelu.forward(out, Nd4j.create(DataType.DOUBLE, 4, 16), x);
      return project(out, r);
    }, 100);
    assertTrue(check.passed(), check.report());
  }
}
