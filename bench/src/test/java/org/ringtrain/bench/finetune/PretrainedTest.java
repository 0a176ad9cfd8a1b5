// Pretrained: what bench/finetune-story.sh --pretrained accepts (a run's checkpoint directory, a
// GPT-2 safetensors file, a directory holding one) and refuses (a missing path, another shape),
// on tiny models the test writes itself. No Spark: the checks run before the story starts it.
package org.ringtrain.bench.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.optim.AdamW;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PretrainedTest {
  /** T, C, L, NH of the tiny model every test writes. */
  private static final int[] SHAPE = {16, 8, 1, 2};

  @TempDir
  Path tmp;

  /** A run's checkpoint directory holding one checkpoint (step 7) of the tiny byte-tokenizer GPT. */
  private Path checkpointDir() throws IOException {
    Path dir = tmp.resolve("run");
    TrainConfig cfg = TrainConfig.fromLayers(Map.of("contextLength", SHAPE[0], "dModel", SHAPE[1], "layers", SHAPE[2],
        "heads", SHAPE[3], "input", "unused.txt", "checkpointDir", dir.toString()));
    try (GptModel model = GptModel.initialised(cfg.modelConfig(256), 3)) {
      AdamW adam = new AdamW(model.layout());
      adam.step(model.params().flat(), Nd4j.zerosLike(model.params().flat()), 0.0);
      new CheckpointStore(HadoopSettings.defaults(), dir.toString()).write(
          new TrainingState(7, 0, 0, 3, cfg.toJson(), "byte"), model.layout(), model.params().flat(), adam);
    }
    return dir;
  }

  @Test
  void aCheckpointDirectoryIsLoadedAtItsStepAndLeftForTheStoryToExport() throws IOException {
    Pretrained p = Pretrained.load(checkpointDir().toString(), SHAPE);
    assertEquals(7, p.model().step());
    assertNull(p.file(), "a checkpoint has no GPT-2 file until the story exports it");
    assertTrue(p.describe().startsWith("7 steps, checkpoint "), p.describe());
  }

  @Test
  void aGpt2FileOrTheDirectoryExportWroteIsUsedAsItIs() throws IOException {
    TrainedGpt trained = TrainedGpt.load(checkpointDir().toString(), HadoopSettings.defaults());
    Path file = trained.export(tmp.resolve("export"));

    Pretrained fromFile = Pretrained.load(file.toString(), SHAPE);
    assertEquals(file, fromFile.file());
    Pretrained fromDir = Pretrained.load(tmp.resolve("export").toString(), SHAPE);
    assertEquals(file, fromDir.file());
    assertEquals(trained.digest(), fromDir.model().digest(), "the same weights either way");
  }

  @Test
  void aModelOfAnotherShapeIsRefusedNamingBothShapes() throws IOException {
    String dir = checkpointDir().toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Pretrained.load(dir, new int[] {256, 384, 6, 6}));
    assertTrue(e.getMessage().contains("[16, 8, 1, 2]") && e.getMessage().contains("[256, 384, 6, 6]")
        && e.getMessage().contains("--shape"), e.getMessage());
  }

  @Test
  void aMissingPathIsRefusedSayingWhatItShouldBe() {
    String missing = tmp.resolve("nothing-here").toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pretrained.load(missing, SHAPE));
    assertTrue(e.getMessage().contains("does not exist") && e.getMessage().contains("checkpoint directory"),
        e.getMessage());
  }
}
