/*
 * GradientAccumulatorTest: summed micro-batch gradients become their mean, the step loss is the
 * mean of the micro-batch losses, and misuse of the step's lifecycle is refused.
 */
package org.ringtrain.ops.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

@Timeout(60)
class GradientAccumulatorTest {

  @Test
  void summedMicroBatchGradientsBecomeTheirMean() {
    GradientAccumulator acc = new GradientAccumulator(4);
    INDArray grads = Nd4j.zeros(DataType.FLOAT, 1000);
    INDArray[] micro = new INDArray[4];
    for (int i = 0; i < 4; i++) {
      micro[i] = OptimTestData.gaussian(1000, 30 + i, 1.0);
      grads.addi(micro[i]); // what the model's accumulating backward does
      acc.add(i + 1.0);
    }
    assertTrue(acc.isComplete());
    double loss = acc.finish(grads);
    assertEquals(2.5, loss, 1e-12);
    for (int e = 0; e < 1000; e += 97) {
      double mean = 0;
      for (INDArray m : micro) {
        mean += m.getFloat(e);
      }
      assertEquals(mean / 4, grads.getFloat(e), 1e-6, "element " + e);
    }
    assertEquals(0, acc.added(), "finish starts the next step");
  }

  @Test
  void oneMicroStepLeavesGradientsBitwiseUnchanged() {
    GradientAccumulator acc = new GradientAccumulator(1);
    INDArray grads = OptimTestData.gaussian(100, 1, 1.0);
    INDArray before = grads.dup();
    acc.add(0.7);
    assertEquals(0.7, acc.finish(grads));
    assertEquals(-1, OptimTestData.firstBitDifference(before, grads));
  }

  @Test
  void finishingEarlyOrAddingTooManyIsRefused() {
    GradientAccumulator acc = new GradientAccumulator(2);
    acc.add(1.0);
    assertFalse(acc.isComplete());
    IllegalStateException early = assertThrows(IllegalStateException.class,
        () -> acc.finish(Nd4j.zeros(DataType.FLOAT, 3)));
    assertTrue(early.getMessage().contains("1 of 2"), early.getMessage());
    acc.add(1.0);
    assertThrows(IllegalStateException.class, () -> acc.add(1.0));
    assertThrows(IllegalArgumentException.class, () -> new GradientAccumulator(0));
  }
}
