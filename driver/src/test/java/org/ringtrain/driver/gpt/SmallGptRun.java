/*
 * SmallGptRun: a test fixture for the tests that read a GPT from disk (QuantizedGptTest,
 * PretrainedGptTest): a run's checkpoint directory holding one checkpoint of a small random GPT,
 * written through CheckpointStore as a training run writes it, without Spark. It is not a test.
 */
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.optim.AdamW;

/** Writes the small GPT run the disk-reading tests start from. */
final class SmallGptRun {
  /** The step of the one checkpoint written. */
  static final long STEP = 7;

  private SmallGptRun() {
  }

  /**
   * A checkpoint of a small random GPT (byte tokenizer, T 16, C 64, L 2, NH 4) at {@link #STEP},
   * in {@code tmp/run}, its corpus in {@code tmp/corpus.txt}; returns the checkpoint directory.
   */
  static Path write(Path tmp) throws IOException {
    Path dir = tmp.resolve("run");
    Path corpus = Files.writeString(tmp.resolve("corpus.txt"), "call me ishmael. ".repeat(20));
    TrainConfig cfg = TrainConfig.fromLayers(Map.of("input", corpus.toString(), "checkpointDir", dir.toString(),
        "contextLength", 16, "tokenizer", "byte", "format", "text", "worldSize", 1, "dModel", 64, "heads", 4,
        "layers", 2));
    ModelConfig model = cfg.modelConfig(256);
    try (GptModel gpt = GptModel.initialised(model, 3); AdamW adam = new AdamW(GptModel.layout(model))) {
      gpt.params().flat().muli(3);
      new CheckpointStore(HadoopSettings.defaults(), dir.toString()).write(
          new TrainingState(STEP, 0, 0, 1, cfg.toJson(), "byte"), GptModel.layout(model), gpt.params().flat(), adam);
    }
    return dir;
  }
}
