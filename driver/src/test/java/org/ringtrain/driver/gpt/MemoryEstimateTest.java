// MemoryEstimate: its activation arithmetic against the bytes GptModel really allocates (with and
// without recomputation, one LM-head chunk and several), and the GPT-2 124M figures docs/memory.md quotes.
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemoryEstimateTest {

  private static long measured(ModelConfig config, int batch, boolean recompute) {
    int n = batch * config.contextLength();
    try (GptModel model = GptModel.initialised(config, 1)) {
      model.setRecompute(recompute);
      model.forward(new int[n], new int[n], batch, config.contextLength());
      return model.activationBytes();
    }
  }

  @Test
  void activationsMatchWhatTheModelAllocatesToTheByte() {
    ModelConfig tiny = new ModelConfig(40, 16, 32, 3, 4, 0);
    // V 3000: the default head chunk is 2688 rows (21 tiles), fewer than the 3200 positions of B 50, T 64.
    ModelConfig chunked = new ModelConfig(3000, 64, 32, 2, 4, 0);
    for (boolean recompute : new boolean[] {false, true}) {
      assertEquals(measured(tiny, 3, recompute), MemoryEstimate.activationBytes(tiny, 3, recompute),
          "tiny, recompute " + recompute);
      assertEquals(measured(chunked, 50, recompute), MemoryEstimate.activationBytes(chunked, 50, recompute),
          "chunked head, recompute " + recompute);
    }
  }

  @Test
  void partsFollowTheParameterCountAndShardingDividesTheOptimizerState() {
    ModelConfig tiny = new ModelConfig(40, 16, 32, 3, 4, 0);
    long p = GptModel.layout(tiny).totalElements();
    MemoryEstimate whole = MemoryEstimate.of(tiny, 2, 3, false, false, 10);
    assertEquals(4 * p, whole.weightBytes());
    assertEquals(4 * p, whole.gradientBytes());
    assertEquals(8 * p, whole.optimizerBytes());
    assertEquals(10 * (16 + 4 * 17), whole.rowBytes());
    assertEquals((8 * p + 2) / 3, MemoryEstimate.of(tiny, 2, 3, false, true, 10).optimizerBytes());
    assertEquals(whole.activationBytes(), MemoryEstimate.of(tiny, 2, 3, true, false, 10).otherActivationBytes());
  }

  @Test
  void aLoraRunCountsGradientsAndOptimizerStateForItsAdaptersOnly() {
    TrainConfig lora = TrainConfig.fromLayers(Map.of("input", "c.txt", "checkpointDir", "runs/a", "initFrom",
        "/m/model.safetensors", "finetune", "lora", "loraTargets", "c_attn", "worldSize", 2));
    MemoryEstimate full = MemoryPreflight.estimate(lora.with("finetune", "full"), 1 << 20);
    MemoryEstimate adapters = MemoryPreflight.estimate(lora, 1 << 20);
    long trainable = 4L * (128 * 8 + 8 * 384); // 4 blocks of c_attn adapters at rank 8, C 128
    assertEquals(full.weightBytes(), adapters.weightBytes());
    assertEquals(4 * trainable, adapters.gradientBytes());
    assertEquals(8 * trainable, adapters.optimizerBytes());
    assertEquals(full.activationBytes(), adapters.activationBytes());
  }

  @Test
  void gpt2SmallAtContext1024NeedsUnderAQuarterOfTheActivationsWithRecomputation() {
    ModelConfig gpt2 = new ModelConfig(50257, 1024, 768, 12, 12, 0);
    // 0.22 at B 4; 0.24 at B 1, where the shared scratch and the LM head's chunk weigh more.
    for (int b : new int[] {1, 4}) {
      MemoryEstimate e = MemoryEstimate.of(gpt2, b, 1, true, false, 0);
      assertEquals(124_439_808L, e.parameters());
      assertTrue(4 * e.activationBytes() <= e.otherActivationBytes(),
          "B " + b + ": " + e.activationBytes() + " with recomputation vs " + e.otherActivationBytes() + " without");
      assertTrue(e.table().contains("activations, recompute on"), e.table());
    }
  }
}
