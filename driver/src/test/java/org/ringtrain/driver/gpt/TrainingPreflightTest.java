// TrainingPreflight: the checks of a training run before Spark starts (they used to live in
// the jobs module), one failure mode per test, with the message a user sees.
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrainingPreflightTest {
  private static final HadoopSettings LOCAL = HadoopSettings.defaults();

  @TempDir
  Path tmp;

  private TrainConfig config(Path input, Path checkpointDir, Map<String, ?> more) {
    return TrainConfig.fromLayers(Map.of("input", input.toString(), "checkpointDir", checkpointDir.toString(),
        "contextLength", 16, "tokenizer", "byte", "format", "text", "worldSize", 2), more);
  }

  private Path corpus(int bytes) throws IOException {
    return Files.write(tmp.resolve("corpus-" + bytes + ".txt"), new byte[bytes]);
  }

  @Test
  void aUsableRunPassesAndCreatesItsCheckpointDirectory() throws IOException {
    Path ckpt = tmp.resolve("ckpt");
    TrainingPreflight.check(config(corpus(17), ckpt, Map.of()), "local[2,4]", LOCAL);
    assertTrue(Files.isDirectory(ckpt));
    TrainingPreflight.check(config(corpus(17), ckpt, Map.of()), "local[*]", LOCAL);
    TrainingPreflight.check(config(corpus(17), ckpt, Map.of()), "spark://127.0.0.1:7077", LOCAL);
    TrainingPreflight.check(config(corpus(17), ckpt, Map.of()), null, LOCAL);
  }

  @Test
  void aByteCorpusShorterThanOneSequenceIsRefused() throws IOException {
    TrainConfig cfg = config(corpus(16), tmp.resolve("ckpt"), Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.checkInput(cfg, LOCAL));
    assertEquals("input " + cfg.input() + " holds 16 bytes, fewer than one sequence of contextLength+1=17 tokens;"
        + " use a larger corpus or a smaller contextLength", e.getMessage());
  }

  @Test
  void aMissingCorpusIsRefusedBeforeTheCheckpointDirectoryIsTouched() {
    Path ckpt = tmp.resolve("ckpt");
    TrainConfig cfg = config(tmp.resolve("missing.txt"), ckpt, Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(cfg, "local[2]", LOCAL));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    assertTrue(Files.notExists(ckpt));
  }

  @Test
  void aCheckpointDirectoryUnderAFileIsNotUsable() throws IOException {
    Path blocker = Files.writeString(tmp.resolve("a-file"), "x");
    TrainConfig cfg = config(corpus(17), blocker.resolve("sub"), Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(cfg, "local[2]", LOCAL));
    assertTrue(e.getMessage().startsWith("checkpointDir " + cfg.loop().checkpoints().checkpointDir() + " is not usable: "), e.getMessage());
    assertTrue(e.getMessage().endsWith("choose a directory you can write"), e.getMessage());
  }

  @Test
  void aLocalMasterNeedsASlotPerRank() throws IOException {
    TrainConfig cfg = config(corpus(17), tmp.resolve("ckpt"), Map.of("worldSize", 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(cfg, "local[2]", LOCAL));
    assertEquals("worldSize=3 needs 3 task slots but master local[2] has 2; use local[3]", e.getMessage());
  }
}
