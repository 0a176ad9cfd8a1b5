/*
 * GradientClippingTest: global-norm clipping scales to the limit, leaves small gradients bitwise
 * alone, returns the norm before clipping and does not touch non-finite gradients.
 */
package org.ringtrain.ops.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

@Timeout(60)
class GradientClippingTest {

  @Test
  void gradientsAboveTheLimitAreScaledToItAndThePreClipNormIsReturned() {
    INDArray grads = Nd4j.createFromArray(3f, 0f, -4f);
    double norm = GradientClipping.clipGlobalNorm(grads, 1.0);
    assertEquals(5.0, norm, 1e-6);
    double coef = 1.0 / (5.0 + GradientClipping.EPSILON);
    assertEquals(3.0 * coef, grads.getFloat(0), 1e-7);
    assertEquals(0.0, grads.getFloat(1));
    assertEquals(-4.0 * coef, grads.getFloat(2), 1e-7);
    assertEquals(1.0, GradientClipping.globalNorm(grads), 1e-6);
  }

  @Test
  void theNormIsGlobalOverTheWholeFlatBuffer() {
    INDArray grads = OptimTestData.gaussian(OptimTestData.chunkCrossingLayout().totalElements(), 1, 0.01);
    double sumSquares = 0;
    for (float g : grads.toFloatVector()) {
      sumSquares += (double) g * g;
    }
    double norm = GradientClipping.clipGlobalNorm(grads, 0.5);
    assertEquals(Math.sqrt(sumSquares), norm, 1e-12 * norm);
    assertEquals(0.5, GradientClipping.globalNorm(grads), 1e-4);
  }

  @Test
  void theNormOfAViewCoversOnlyTheView() {
    INDArray buffer = Nd4j.createFromArray(100f, 3f, 4f, 100f);
    INDArray view = buffer.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3));
    assertEquals(5.0, GradientClipping.globalNorm(view));
    assertEquals(0.0, GradientClipping.globalNorm(Nd4j.createFromArray(0f, 0f, 0f, 0f, 0f)));
  }

  @Test
  void gradientsWithinTheLimitAreBitwiseUnchanged() {
    INDArray grads = OptimTestData.gaussian(1000, 2, 0.001);
    INDArray before = grads.dup();
    double norm = GradientClipping.clipGlobalNorm(grads, 1.0);
    assertTrue(norm < 1.0, "norm " + norm);
    assertEquals(-1, OptimTestData.firstBitDifference(before, grads));
  }

  @Test
  void aNonFiniteNormIsReturnedWithoutTouchingTheGradients() {
    INDArray grads = Nd4j.createFromArray(1f, Float.NaN, 2f);
    double norm = GradientClipping.clipGlobalNorm(grads, 1.0);
    assertTrue(Double.isNaN(norm), "norm " + norm);
    assertEquals(1f, grads.getFloat(0));
    assertEquals(2f, grads.getFloat(2));
  }

  @Test
  void aNonPositiveLimitIsRejected() {
    INDArray grads = Nd4j.createFromArray(1f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GradientClipping.clipGlobalNorm(grads, 0.0));
    assertTrue(e.getMessage().contains("maxNorm=0.0"), e.getMessage());
  }
}
