/*
 * Tests of LoraModel: adapter gradients against finite differences in float64 (all four targets,
 * through the frozen base), the zero-initialised lora_B leaving the base's output unchanged, the
 * merged weights computing what base + adapters compute, frozen weights getting no gradient buffer,
 * the listener's contiguous adapter ranges, and the target-name parser. Test code only.
 */
package org.ringtrain.ops.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.transformer.BlockAdapters.Target;

class LoraModelTest {

  private static final ModelConfig CONFIG = new ModelConfig(11, 8, 8, 2, 2, 0);
  private static final LoraConfig ALL = new LoraConfig(2, 4.0, EnumSet.allOf(Target.class));

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  static int[] tokens(long seed, int n, int vocab) {
    SplitMix64 rng = new SplitMix64(seed);
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = (int) (rng.nextDouble() * vocab);
    }
    return ids;
  }

  private static void perturb(INDArray flat, long seed, double scale) {
    SplitMix64 rng = new SplitMix64(seed);
    for (long i = 0; i < flat.length(); i++) {
      flat.putScalar(i, flat.getDouble(i) + scale * rng.nextGaussian());
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void adapterGradientsMatchFiniteDifferences() {
    int b = 2;
    int t = 5;
    GptModel base = new GptModel(CONFIG, DataType.DOUBLE);
    GptModel.initialise(base.params(), CONFIG.layers(), 3);
    perturb(base.params().flat(), 9, 0.3);
    try (LoraModel model = new LoraModel(base, ALL, 5)) {
      perturb(model.params().flat(), 11, 0.3); // lora_B non-zero, so every path carries a signal
      int[] in = tokens(1, b * t, CONFIG.vocabSize());
      int[] tg = tokens(2, b * t, CONFIG.vocabSize());
      model.zeroGrad();
      model.base().forward(in, tg, b, t);
      model.backward();
      GradCheck check = new GradCheck();
      for (ParameterLayout.TensorSpec spec : model.layout().tensors()) {
        check.check(spec.name(), model.params().view(spec.name()), model.grads().view(spec.name()),
            () -> model.base().forward(in, tg, b, t), 5);
      }
      assertTrue(check.passed(), check.report());
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void zeroInitialisedAdaptersLeaveTheBaseOutputUnchanged() {
    int[] in = tokens(1, 16, CONFIG.vocabSize());
    int[] tg = tokens(2, 16, CONFIG.vocabSize());
    try (GptModel plain = GptModel.initialised(CONFIG, 4);
        LoraModel lora = new LoraModel(GptModel.initialised(CONFIG, 4), ALL, 6)) {
      double expected = plain.forward(in, tg, 2, 8);
      INDArray logits = plain.logits().dup();
      assertEquals(expected, lora.base().forward(in, tg, 2, 8), 0.0);
      assertEquals(logits, lora.base().logits());
      assertTrue(lora.params().flat().amaxNumber().doubleValue() > 0, "lora_A is drawn, not zero");
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void mergedWeightsComputeWhatBasePlusAdaptersCompute() {
    int[] in = tokens(1, 16, CONFIG.vocabSize());
    try (LoraModel lora = new LoraModel(GptModel.initialised(CONFIG, 4), ALL, 6)) {
      perturb(lora.params().flat(), 12, 0.05);
      lora.base().forward(in, null, 2, 8);
      INDArray adapted = lora.base().logits().dup();
      try (GptModel merged = lora.merged()) {
        merged.forward(in, null, 2, 8);
        double diff = merged.logits().sub(adapted).amaxNumber().doubleValue();
        assertTrue(diff < 1e-5, "max logit difference " + diff);
        assertFalse(merged.params().flat().equals(lora.base().params().flat()), "the merge changed the weights");
      }
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void frozenBaseGetsNoGradientsAndTheListenerHearsAdapterRangesFromTheEnd() {
    LoraConfig qkv = new LoraConfig(4, 8.0, LoraConfig.parseTargets("c_attn"));
    try (LoraModel lora = new LoraModel(GptModel.initialised(CONFIG, 4), qkv, 6)) {
      lora.base().forward(tokens(1, 16, 11), tokens(2, 16, 11), 2, 8);
      List<long[]> ranges = new ArrayList<>();
      lora.backward((from, to) -> ranges.add(new long[] {from, to}));
      assertEquals(CONFIG.layers(), ranges.size());
      long end = lora.layout().totalElements();
      for (long[] r : ranges) {
        assertEquals(end, r[1]);
        end = r[0];
      }
      assertEquals(0, end);
      assertEquals((long) CONFIG.layers() * (8 * 4 + 4 * 24), lora.layout().totalElements());
      assertTrue(lora.grads().flat().amaxNumber().doubleValue() > 0, "adapters got gradients");
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void targetNamesParseAndBadOnesAreRefused() {
    assertEquals(EnumSet.allOf(Target.class), LoraConfig.parseTargets("c_attn, attn.c_proj,c_fc,mlp.c_proj"));
    assertEquals("attn.c_attn,mlp.c_fc", new LoraConfig(8, 16, LoraConfig.parseTargets("c_fc,c_attn")).targetNames());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.parseTargets("c_proj"));
    assertTrue(e.getMessage().contains("ambiguous"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new LoraConfig(0, 16, EnumSet.of(Target.QKV)));
  }
}
