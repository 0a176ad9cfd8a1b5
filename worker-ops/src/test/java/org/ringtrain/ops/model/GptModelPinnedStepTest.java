/*
 * Pins one float32 training step of the GPT decoder (loss and gradients, bit for bit), so that
 * restructuring the layers cannot change a single bit unnoticed. Test code only; numerical
 * correctness itself is GptModelTest's and GptModelReferenceTest's.
 */
package org.ringtrain.ops.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GptModelPinnedStepTest {

  @Test
  void oneStepIsPinned() {
    ModelConfig config = new ModelConfig(40, 16, 32, 2, 4, 0);
    int b = 3;
    int t = 16;
    int[] in = new int[b * t];
    int[] out = new int[b * t];
    SplitMix64 rng = new SplitMix64(11);
    for (int i = 0; i < in.length; i++) {
      in[i] = (int) (rng.nextDouble() * 40);
      out[i] = (int) (rng.nextDouble() * 40);
    }
    try (GptModel model = GptModel.initialised(config, 17)) {
      double loss = model.forward(in, out, b, t);
      model.backward();
      float[] g = model.grads().flat().toFloatVector();
      long h = 1125899906842597L;
      for (float v : g) {
        h = 31 * h + Float.floatToRawIntBits(v);
      }
      assertEquals(LOSS_BITS, Double.doubleToRawLongBits(loss), "loss bits");
      assertEquals(GRADS, h, "gradient checksum");
    }
  }

  // Pinned with the fused float32 kernels (org.ringtrain.ops.kernels): LayerNorm, GELU, attention
  // softmax, cross-entropy, column sums.
  private static final long LOSS_BITS = 4615500061133679275L;
  private static final long GRADS = -7641595011339008889L;
}
