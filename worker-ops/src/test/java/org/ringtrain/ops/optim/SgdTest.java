/*
 * SgdTest: SGD with momentum against a plain-double reference of torch.optim.SGD's formulas
 * (plain, dampened and Nesterov momentum), weight decay restricted to 2-D tensors, and config
 * checks. It does not test state files.
 */
package org.ringtrain.ops.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(60)
class SgdTest {

  private static final double LR = 0.1;

  @Test
  void momentumStepsMatchHandComputedValues() {
    checkAgainstReference(new Sgd.Config(LR, 0.9, 0.0, 0.0, false));
  }

  @Test
  void dampenedMomentumStepsMatchHandComputedValues() {
    checkAgainstReference(new Sgd.Config(LR, 0.8, 0.3, 0.0, false));
  }

  @Test
  void nesterovStepsMatchHandComputedValues() {
    checkAgainstReference(new Sgd.Config(LR, 0.9, 0.0, 0.0, true));
  }

  @Test
  void weightDecayedMomentumStepsMatchHandComputedValues() {
    checkAgainstReference(new Sgd.Config(LR, 0.9, 0.0, 0.05, false));
  }

  @Test
  void withoutMomentumItIsPlainGradientDescentAndKeepsNoBuffer() {
    ParameterLayout layout = OptimTestData.tinyLayout();
    INDArray params = OptimTestData.gaussian(layout.totalElements(), 1, 1.0);
    INDArray grads = OptimTestData.gaussian(layout.totalElements(), 2, 1.0);
    INDArray expected = params.dup();
    try (Sgd sgd = new Sgd(layout, new Sgd.Config(LR, 0.0, 0.0, 0.0, false))) {
      sgd.step(params, grads);
      assertNull(sgd.momentumBuffer());
    }
    for (long i = 0; i < layout.totalElements(); i += 37) {
      assertEquals(expected.getFloat(i) - LR * grads.getFloat(i), params.getFloat(i), 1e-6, "element " + i);
    }
  }

  @Test
  void weightDecayLeavesBiasesAndLayerNormUntouched() {
    ParameterLayout layout = OptimTestData.tinyLayout();
    INDArray params = OptimTestData.gaussian(layout.totalElements(), 3, 1.0);
    INDArray before = params.dup();
    try (Sgd sgd = new Sgd(layout, new Sgd.Config(LR, 0.9, 0.0, 0.5, false))) {
      sgd.step(params, Nd4j.zeros(DataType.FLOAT, layout.totalElements()));
    }
    for (TensorSpec t : layout.tensors()) {
      long i = t.offset() + t.length() / 2;
      if (t.decays()) {
        assertEquals(before.getFloat(i) * (1.0 - LR * 0.5), params.getFloat(i), 1e-6, t.name() + " must decay");
      } else {
        assertEquals(Float.floatToRawIntBits(before.getFloat(i)), Float.floatToRawIntBits(params.getFloat(i)),
            t.name() + " (1-D) must not decay");
      }
    }
  }

  @Test
  void configRejectsNesterovWithoutMomentumOrWithDampening() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Sgd.Config(LR, 0.0, 0.0, 0.0, true));
    assertTrue(e.getMessage().contains("nesterov"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Sgd.Config(LR, 0.9, 0.1, 0.0, true));
    assertThrows(IllegalArgumentException.class, () -> new Sgd.Config(LR, 1.0, 0.0, 0.0, false));
    assertThrows(IllegalArgumentException.class, () -> new Sgd.Config(LR, 0.9, 1.5, 0.0, false));
  }

  /** Three steps of SGD against torch.optim.SGD's update written out in double on a few elements. */
  private static void checkAgainstReference(Sgd.Config config) {
    ParameterLayout layout = OptimTestData.tinyLayout();
    long n = layout.totalElements();
    INDArray params = OptimTestData.gaussian(n, 10, 0.5);
    long[] probes = {layout.get("wte.weight").offset() + 3, layout.get("h.0.ln_2.bias").offset() + 1,
        layout.get("h.0.mlp.c_proj.weight").offset() + 17, n - 1};
    double[] p = new double[probes.length];
    double[] buf = new double[probes.length];
    for (int i = 0; i < probes.length; i++) {
      p[i] = params.getFloat(probes[i]);
    }
    try (Sgd sgd = new Sgd(layout, config)) {
      for (int t = 0; t < 3; t++) {
        INDArray grads = OptimTestData.gaussian(n, 20 + t, 0.3);
        sgd.step(params, grads, LR);
        for (int i = 0; i < probes.length; i++) {
          boolean decays = layoutDecays(layout, probes[i]);
          double d = grads.getFloat(probes[i]) + (decays ? config.weightDecay() * p[i] : 0.0);
          buf[i] = t == 0 ? d : config.momentum() * buf[i] + (1.0 - config.dampening()) * d;
          double update = config.nesterov() ? d + config.momentum() * buf[i] : buf[i];
          p[i] -= LR * update;
          assertEquals(p[i], params.getFloat(probes[i]), 2e-6, "param " + probes[i] + " after step " + (t + 1));
          assertEquals(buf[i], sgd.momentumBuffer().getFloat(probes[i]), 2e-6, "momentum " + probes[i]);
        }
      }
      assertEquals(3, sgd.stepCount());
    }
  }

  private static boolean layoutDecays(ParameterLayout layout, long element) {
    for (TensorSpec t : layout.tensors()) {
      if (element >= t.offset() && element < t.offset() + t.length()) {
        return t.decays();
      }
    }
    throw new AssertionError("element " + element + " is in no tensor");
  }
}
