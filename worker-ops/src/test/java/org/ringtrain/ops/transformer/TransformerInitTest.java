/*
 * Tests of TransformerInit through ParameterInit on a GPT layout: bitwise reproducibility from a
 * seed and the GPT-2 initialisation scheme. Test code only.
 */
package org.ringtrain.ops.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransformerInitTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static final ModelConfig CONFIG = new ModelConfig(64, 16, 32, 2, 4, 0);

  private static long checksum(ParameterBuffer p) {
    float[] values = p.flat().toFloatVector();
    long h = 1125899906842597L;
    for (float v : values) {
      h = 31 * h + Float.floatToRawIntBits(v);
    }
    return h;
  }

  @Test
  void sameSeedGivesBitwiseIdenticalParameters() {
    ParameterLayout layout = GptModel.layout(CONFIG);
    try (ParameterBuffer a = ParameterBuffer.zeros(layout); ParameterBuffer b = ParameterBuffer.zeros(layout)) {
      GptModel.initialise(a, CONFIG.layers(), 42);
      GptModel.initialise(b, CONFIG.layers(), 42);
      assertEquals(checksum(a), checksum(b));
      GptModel.initialise(b, CONFIG.layers(), 43);
      assertNotEquals(checksum(a), checksum(b));
    }
  }

  @Test
  void valuesArePinnedSoEveryJvmAgrees() {
    // Pinned from SplitMix64 + StrictMath Box-Muller: if this changes, checkpoints and ranks stop agreeing.
    ParameterLayout layout = GptModel.layout(CONFIG);
    try (ParameterBuffer p = ParameterBuffer.zeros(layout)) {
      GptModel.initialise(p, CONFIG.layers(), 1234);
      assertEquals(PINNED_CHECKSUM, checksum(p), "checksum of the seed-1234 parameters");
    }
  }

  @Test
  void floatAndDoubleBuffersHoldTheSameNumbers() {
    ParameterLayout layout = GptModel.layout(CONFIG);
    try (ParameterBuffer f = ParameterBuffer.zeros(layout);
        ParameterBuffer d = ParameterBuffer.zeros(layout, DataType.DOUBLE)) {
      GptModel.initialise(f, CONFIG.layers(), 7);
      GptModel.initialise(d, CONFIG.layers(), 7);
      assertEquals(0.0, f.flat().castTo(DataType.DOUBLE).sub(d.flat()).amaxNumber().doubleValue(), 0.0);
    }
  }

  @Test
  void followsGpt2Scheme() {
    ModelConfig config = new ModelConfig(512, 64, 128, 8, 4, 0);
    try (ParameterBuffer p = ParameterBuffer.zeros(GptModel.layout(config))) {
      GptModel.initialise(p, config.layers(), 5);
      assertEquals(0.02, p.view("wte.weight").stdNumber().doubleValue(), 0.001);
      assertEquals(0.02, p.view("h.3.mlp.c_fc.weight").stdNumber().doubleValue(), 0.001);
      double residual = 0.02 / Math.sqrt(2 * 8);
      assertEquals(residual, p.view("h.3.mlp.c_proj.weight").stdNumber().doubleValue(), 0.0005);
      assertEquals(residual, p.view("h.0.attn.c_proj.weight").stdNumber().doubleValue(), 0.0005);
      INDArray ln = p.view("h.5.ln_2.weight");
      assertEquals(1.0, ln.minNumber().doubleValue());
      assertEquals(1.0, ln.maxNumber().doubleValue());
      assertEquals(0.0, p.view("h.5.ln_2.bias").amaxNumber().doubleValue());
      assertEquals(0.0, p.view("h.2.attn.c_attn.bias").amaxNumber().doubleValue());
      assertEquals(1.0, p.view("ln_f.weight").minNumber().doubleValue());
    }
  }

  private static final long PINNED_CHECKSUM = 8121614716041835044L;
}
