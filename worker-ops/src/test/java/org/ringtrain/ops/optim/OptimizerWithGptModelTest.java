/*
 * OptimizerWithGptModelTest: the optimizers, clipping and accumulation applied to a real GptModel's
 * flat buffers lower its loss on one batch. It checks the contract between model and optimizer,
 * not convergence speed.
 */
package org.ringtrain.ops.optim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

@Timeout(120)
class OptimizerWithGptModelTest {

  private static final ModelConfig CONFIG = new ModelConfig(16, 8, 16, 1, 2, 0.0);
  private static final int[][] INPUTS = {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 0}};
  private static final int[][] TARGETS = {{2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 0, 1}};

  @Test
  void adamWWithClippingAndAccumulationLowersTheLossOfOneBatch() {
    try (GptModel model = GptModel.initialised(CONFIG, 42);
        AdamW adamW = new AdamW(model.layout(), AdamW.Config.defaults().withLr(1e-2))) {
      assertLossFalls(model, adamW);
    }
  }

  @Test
  void sgdWithMomentumLowersTheLossOfOneBatch() {
    try (GptModel model = GptModel.initialised(CONFIG, 42);
        Sgd sgd = new Sgd(model.layout(), new Sgd.Config(0.5, 0.9, 0.0, 0.0, false))) {
      assertLossFalls(model, sgd);
    }
  }

  /**
   * Accumulates one micro-batch per row as the training loop does: backward adds each row's
   * mean-loss gradient into the zeroed buffer, which is then divided by the number of rows.
   */
  private static void assertLossFalls(GptModel model, Optimizer optimizer) {
    double first = Double.NaN;
    double last = Double.NaN;
    for (int step = 0; step < 15; step++) {
      model.zeroGrad();
      double lossSum = 0;
      for (int i = 0; i < INPUTS.length; i++) {
        lossSum += model.forward(new int[][] {INPUTS[i]}, new int[][] {TARGETS[i]});
        model.backward();
      }
      model.grads().flat().muli(1.0 / INPUTS.length);
      last = lossSum / INPUTS.length;
      if (step == 0) {
        first = last;
      }
      GradientClipping.clipGlobalNorm(model.grads().flat(), GradientClipping.DEFAULT_MAX_NORM);
      optimizer.step(model.params().flat(), model.grads().flat());
    }
    assertTrue(last < 0.5 * first, "loss must at least halve in 15 steps: first " + first + ", last " + last);
  }
}
