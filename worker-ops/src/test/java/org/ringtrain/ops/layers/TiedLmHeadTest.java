/*
 * Tests of TiedLmHead: backward against finite differences. Test code only.
 */
package org.ringtrain.ops.layers;

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
class TiedLmHeadTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  @Test
  void backwardMatchesFiniteDifferences() {
    INDArray x = randn(1, 1, 4, 6);
    INDArray wte = randn(2, 1, 9, 6);
    INDArray r = randn(3, 1, 4, 9);
    INDArray logits = Nd4j.create(DataType.DOUBLE, 4, 9);
    INDArray dx = Nd4j.zeros(DataType.DOUBLE, 4, 6);
    INDArray dwte = Nd4j.zeros(DataType.DOUBLE, 9, 6);
    TiedLmHead.backward(dx, dwte, r, x, wte);
    GradCheck check = new GradCheck();
    java.util.function.DoubleSupplier f = () -> {
      TiedLmHead.forward(logits, x, wte);
      return project(logits, r);
    };
    check.check("inp", x, dx, f, 100);
    check.check("wte", wte, dwte, f, 100);
    assertTrue(check.passed(), check.report());
  }
}
