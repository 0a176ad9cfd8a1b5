// Fine-tuning from base weights end to end in a real local[2,4] SparkContext:
// a full fine-tune starts from the file's weights, a LoRA run on 2 ranks
// matches 1 rank with twice the micro-batch and leaves the frozen weights
// untouched, a resume on other base weights is refused before training, and
// an export reads back as the same model.
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.driver.gpt.GptTrainerTest.sequences;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.train.LocalSpark;
import org.ringtrain.ops.gpt.Gpt2Import;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.io.SafetensorsWriter;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BaseWeightsTest {
  private static final int VOCAB = 256;
  private static final int T = 16;
  private static final ModelConfig SHAPE = new ModelConfig(VOCAB, T, 32, 2, 2, 0);
  private static JavaSparkContext sc;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startSpark() {
    sc = LocalSpark.start("local[2,4]", "BaseWeightsTest");
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  /** Writes a seeded GPT of {@link #SHAPE} as ringtrain's model.safetensors; returns its weights. */
  private static float[] writeBase(Path file, long seed) throws Exception {
    try (GptModel m = GptModel.initialised(SHAPE, seed)) {
      new SafetensorsWriter(m.layout()).write(m.params().flat(), Map.of(), file);
      return m.params().flat().toFloatVector();
    }
  }

  private TrainConfig config(String name, int world, int microBatch, Path base, String finetune) {
    return TrainConfig.fromLayers(Map.of("input", "unused-by-fit", "checkpointDir", tmp.resolve(name).toString(),
        "contextLength", T, "dModel", 32, "layers", 2, "heads", 2),
        Map.of("worldSize", world, "microBatch", microBatch, "steps", 4, "learningRate", 1e-2,
            "warmupSteps", 1, "shuffle", false, "evalEvery", 4, "evalBatches", 1, "ringTimeoutSeconds", 60),
        Map.of("initFrom", base.toString(), "finetune", finetune, "loraRank", 4, "loraTargets", "c_attn,mlp.c_proj"));
  }


  private TrainedGpt train(TrainConfig cfg) throws Exception {
    int n = cfg.loop().worldSize();
    return new GptTrainer(cfg).fit(sc, sc.parallelize(sequences(0, 32), n), sc.parallelize(sequences(900, 2 * n), n),
        "byte", VOCAB);
  }

  @Test
  void fullFineTuningStartsFromTheFilesWeights() throws Exception {
    Path base = tmp.resolve("base.safetensors");
    writeBase(base, 42);
    TrainedGpt tuned = train(config("full", 1, 4, base, "full"));
    double expected;
    try (GptModel m = Gpt2Import.model(base, SHAPE)) {
      int[][] rows = sequences(0, 4).toArray(new int[0][]);
      int[][] in = new int[4][];
      int[][] tg = new int[4][];
      for (int i = 0; i < 4; i++) {
        in[i] = Arrays.copyOf(rows[i], T);
        tg[i] = Arrays.copyOfRange(rows[i], 1, T + 1);
      }
      expected = m.forward(in, tg);
    }
    assertEquals(expected, tuned.summary().ranks().get(0).losses()[0], 1e-5, "step 1's loss is the base's on its batch");
  }

  @Test
  void loraOnTwoRanksMatchesOneRankAndLeavesFrozenWeightsAlone() throws Exception {
    Path base = tmp.resolve("base.safetensors");
    float[] original = writeBase(base, 42);
    float[] two = train(config("lora2", 2, 2, base, "lora")).weights();
    TrainedGpt oneRun = train(config("lora1", 1, 4, base, "lora"));
    float[] one = oneRun.weights();
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < one.length; i++) {
      diff += (two[i] - one[i]) * (double) (two[i] - one[i]);
      norm += (one[i] - original[i]) * (double) (one[i] - original[i]);
    }
    assertTrue(norm > 0, "the adapters changed the merged weights");
    assertTrue(Math.sqrt(diff) < 1e-5 * Math.sqrt(norm) + 1e-7, "2 ranks vs 1 differ by " + Math.sqrt(diff)
        + " against a change of " + Math.sqrt(norm));
    int embeddings = VOCAB * 32 + T * 32;
    assertArrayEquals(Arrays.copyOf(original, embeddings), Arrays.copyOf(one, embeddings), "wte and wpe are frozen");

    Path exported = oneRun.export(tmp.resolve("export"));
    assertArrayEquals(one, TrainedGpt.fromWeights(exported.toString()).weights(), "the export reads back the same");

    Path other = tmp.resolve("other.safetensors");
    writeBase(other, 43);
    TrainConfig resume = config("lora1", 1, 4, other, "lora").with("resume", true).with("steps", 6);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(resume));
    assertTrue(e.getMessage().contains("holds LoRA adapters of base weights with sha256"), e.getMessage());
  }
}
