/*
 * Tests of LstmCellKernel's nonlinearities: sigmoid and tanh against Math in float64, and the
 * scalar tail forms against the vector lanes bit for bit. The cell itself is tested through the
 * layer (LstmFusedTest in ops.classify, against the ND4J path). Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LstmCellKernelTest {

  /** Inputs over the range the gates see, including the series/exp switch at 1/8 and saturation. */
  private static float[] inputs() {
    float[] x = new float[4096];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) ((i - x.length / 2) * (24.0 / x.length)); // [-12, 12)
    }
    x[0] = 0.125f;
    x[1] = -0.125f;
    x[2] = Math.nextDown(0.125f);
    x[3] = 1e-6f;
    x[4] = -100f;
    x[5] = 100f;
    x[6] = 0f;
    x[7] = Float.NEGATIVE_INFINITY;
    x[8] = Float.POSITIVE_INFINITY;
    return x;
  }

  @Test
  void tanhIsWithinFloatRoundingOfMathTanhAbsolutelyAndNearZeroRelatively() {
    double worstAbs = 0;
    double worstRel = 0;
    for (float x : inputs()) {
      double want = Math.tanh(x);
      double got = LstmCellKernel.tanh(x);
      worstAbs = Math.max(worstAbs, Math.abs(got - want));
      if (Math.abs(x) < 0.5) {
        worstRel = Math.max(worstRel, Math.abs(got - want) / Math.max(Math.abs(want), 1e-30));
      }
    }
    assertTrue(worstAbs <= 3e-7, "tanh: largest absolute error " + worstAbs);
    assertTrue(worstRel <= 1e-6, "tanh: largest relative error below |x| = 0.5: " + worstRel);
  }

  @Test
  void sigmoidIsWithinFloatRoundingOfTheFloat64Formula() {
    double worst = 0;
    for (float x : inputs()) {
      double want = 1 / (1 + Math.exp(-(double) x));
      worst = Math.max(worst, Math.abs(LstmCellKernel.sigmoid(x) - want));
    }
    assertTrue(worst <= 2e-7, "sigmoid: largest absolute error " + worst);
  }

  @Test
  void scalarFormsGiveTheSameBitsAsTheVectorLanes() {
    float[] x = inputs();
    for (int i = 0; i + Lanes.N <= x.length; i += Lanes.N) {
      FloatVector v = FloatVector.fromArray(Lanes.FLOATS, x, i);
      FloatVector t = LstmCellKernel.tanh(v);
      FloatVector s = LstmCellKernel.sigmoid(v);
      for (int j = 0; j < Lanes.N; j++) {
        assertEquals(Float.floatToRawIntBits(LstmCellKernel.tanh(x[i + j])), Float.floatToRawIntBits(t.lane(j)),
            "tanh(" + x[i + j] + ") bits");
        assertEquals(Float.floatToRawIntBits(LstmCellKernel.sigmoid(x[i + j])), Float.floatToRawIntBits(s.lane(j)),
            "sigmoid(" + x[i + j] + ") bits");
      }
    }
  }
}
