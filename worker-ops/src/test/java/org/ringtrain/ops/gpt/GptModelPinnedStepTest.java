/*
 * Pins one float32 training step of the GPT decoder (loss and gradients, bit for bit), so that
 * restructuring the layers cannot change a single bit unnoticed. Test code only; numerical
 * correctness itself is GptModelTest's and GptModelReferenceTest's.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.ops.param.SplitMix64;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GptModelPinnedStepTest {

  private static final ModelConfig CONFIG = new ModelConfig(40, 16, 32, 2, 4, 0);
  private static final int B = 3;
  private static final int T = 16;

  /** {loss bits, gradient checksum, activation bytes} of one step, with or without recomputation. */
  private static long[] step(boolean recompute) {
    int[] in = new int[B * T];
    int[] out = new int[B * T];
    SplitMix64 rng = new SplitMix64(11);
    for (int i = 0; i < in.length; i++) {
      in[i] = (int) (rng.nextDouble() * 40);
      out[i] = (int) (rng.nextDouble() * 40);
    }
    try (GptModel model = GptModel.initialised(CONFIG, 17)) {
      model.setRecompute(recompute);
      double loss = model.forward(in, out, B, T);
      model.backward();
      float[] g = model.grads().flat().toFloatVector();
      long h = 1125899906842597L;
      for (float v : g) {
        h = 31 * h + Float.floatToRawIntBits(v);
      }
      return new long[] {Double.doubleToRawLongBits(loss), h, model.activationBytes()};
    }
  }

  @Test
  void oneStepIsPinned() {
    long[] got = step(false);
    assertEquals(LOSS_BITS, got[0], "loss bits");
    assertEquals(GRADS, got[1], "gradient checksum");
  }

  @Test
  void recomputationGivesTheSameBitsWithFewerActivations() {
    long[] kept = step(false);
    long[] recomputed = step(true);
    assertEquals(kept[0], recomputed[0], "loss bits");
    assertEquals(kept[1], recomputed[1], "gradient checksum");
    // Per token the blocks keep C instead of 16 C + 4 + NH T floats, all but one of them.
    long c = CONFIG.dModel();
    long perBlockSaved = (15 * c + 4 + (long) CONFIG.heads() * T) * B * T * Float.BYTES;
    assertEquals(kept[2] - (CONFIG.layers() - 1) * perBlockSaved, recomputed[2], "activation bytes");
  }

  // Pinned with the fused float32 kernels (org.ringtrain.ops.kernels): LayerNorm, GELU, attention
  // softmax, cross-entropy, column sums.
  private static final long LOSS_BITS = 4615500061133679275L;
  private static final long GRADS = -7641595011339008889L;
}
