// TrainingPreflight: the checks of a training run before Spark starts (they used to live in
// the jobs module), one failure mode per test, with the message a user sees; and the exact
// micro-batch check once a corpus is loaded, in a local Spark context.
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
import org.apache.spark.api.java.JavaSparkContext;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.data.CorpusFixtures;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.optim.AdamW;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrainingPreflightTest {
  private static final HadoopSettings LOCAL = HadoopSettings.defaults();

  @TempDir
  Path tmp;

  private TrainConfig config(Path input, Path checkpointDir, Map<String, ?> more) {
    return TrainConfig.fromLayers(Map.of("input", input.toString(), "checkpointDir", checkpointDir.toString(),
        "contextLength", 16, "tokenizer", "byte", "format", "text", "worldSize", 2), more);
  }

  /** Bytes of a corpus that gives 40 sequences at contextLength 16: 2 held out, 38 for training. */
  private static final int USABLE = 16 * 40 + 1;

  private Path corpus(int bytes) throws IOException {
    return Files.write(tmp.resolve("corpus-" + bytes + ".txt"), new byte[bytes]);
  }

  @Test
  void aUsableRunPassesAndCreatesItsCheckpointDirectory() throws IOException {
    Path ckpt = tmp.resolve("ckpt");
    TrainingPreflight.check(config(corpus(USABLE), ckpt, Map.of()), "local[2,4]", LOCAL);
    assertTrue(Files.isDirectory(ckpt));
    TrainingPreflight.check(config(corpus(USABLE), ckpt, Map.of()), "local[*]", LOCAL);
    TrainingPreflight.check(config(corpus(USABLE), ckpt, Map.of()), "spark://127.0.0.1:7077", LOCAL);
    TrainingPreflight.check(config(corpus(USABLE), ckpt, Map.of()), null, LOCAL);
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
    TrainConfig cfg = config(corpus(USABLE), blocker.resolve("sub"), Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(cfg, "local[2]", LOCAL));
    assertTrue(e.getMessage().startsWith("checkpointDir " + cfg.loop().checkpoints().checkpointDir() + " is not usable: "), e.getMessage());
    assertTrue(e.getMessage().endsWith("choose a directory you can write"), e.getMessage());
  }

  @Test
  void aLocalMasterNeedsASlotPerRank() throws IOException {
    TrainConfig cfg = config(corpus(USABLE), tmp.resolve("ckpt"), Map.of("worldSize", 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(cfg, "local[2]", LOCAL));
    assertEquals("worldSize=3 needs 3 task slots but master local[2] has 2; use local[3]", e.getMessage());
  }

  @Test
  void aGlobalBatchLargerThanTheTrainingSequencesIsRefusedFromTheFileSizes() throws IOException {
    // 161 bytes: 10 sequences of 17 tokens; 2 held out for validation, 8 for training.
    TrainConfig cfg = config(corpus(16 * 10 + 1), tmp.resolve("ckpt"), Map.of("microBatch", 5));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(cfg, "local[2]", LOCAL));
    assertEquals("one step needs worldSize=2 x microBatch=5 x gradAccumSteps=1 = 10 training sequences, but "
        + cfg.input() + " at contextLength=16 gives 8; use a smaller microBatch or gradAccumSteps, fewer ranks, a"
        + " smaller contextLength or a larger corpus", e.getMessage());
    TrainingPreflight.check(cfg.with("microBatch", 4), "local[2]", LOCAL);
    // evaluate checks only the input: it reads the corpus in its own partitions, with no micro-batch of training
    TrainingPreflight.checkInput(cfg, LOCAL);
  }

  @Test
  void aGlobalBatchLargerThanTheLoadedSequencesIsRefusedBeforeTraining() throws IOException {
    // GPT-2 tokens are known only once the corpus is loaded: the check runs on the loaded counts.
    Path text = Files.writeString(tmp.resolve("gpt2.txt"), "the whale and the sea and the ship. ".repeat(40));
    TrainConfig cfg = TrainConfig.fromLayers(Map.of("input", text.toString(), "checkpointDir",
        tmp.resolve("ckpt").toString(), "contextLength", 16, "tokenizer", "gpt2", "worldSize", 2,
        "microBatch", 64));
    TrainingPreflight.check(cfg, "local[2]", LOCAL);
    JavaSparkContext sc = CorpusFixtures.localSpark("TrainingPreflightTest");
    try {
      TrainingData data = CorpusLoader.load(sc, new DatasetSpec(cfg.input(), cfg.format(), "gpt2",
          cfg.contextLength(), cfg.validationFraction(), 2));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new GptTrainer(cfg).fit(sc, data));
      assertTrue(e.getMessage().startsWith("one step needs worldSize=2 x microBatch=64 x gradAccumSteps=1 = 128"
          + " training sequences, but " + cfg.input() + " at contextLength=16 gives " + data.trainSequences() + ";"),
          e.getMessage());
    } finally {
      sc.stop();
    }
  }

  @Test
  void resumingWithAnotherModelShapeNamesEveryDifference() throws IOException {
    Path ckpt = tmp.resolve("ckpt");
    TrainConfig saved = config(corpus(USABLE), ckpt, Map.of("dModel", 16, "heads", 2, "layers", 1));
    ModelConfig model = saved.modelConfig(256);
    try (GptModel gpt = GptModel.initialised(model, 1); AdamW adam = new AdamW(GptModel.layout(model))) {
      new CheckpointStore(LOCAL, ckpt.toString()).write(new TrainingState(3, 0, 0, 1, saved.toJson(), "byte"),
          GptModel.layout(model), gpt.params().flat(), adam);
    }
    TrainingPreflight.check(saved.with("resume", true), "local[2]", LOCAL);
    TrainConfig other = saved.with("resume", true).with("dModel", 32).with("heads", 4);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(other, "local[2]", LOCAL));
    assertEquals("cannot resume: the checkpoints in " + ckpt + " hold another model shape (dModel 16 in the"
        + " checkpoint, 32 now; heads 2 in the checkpoint, 4 now); resume with the checkpoint's settings, or start"
        + " in an empty directory to train the new shape", e.getMessage());
  }

  @Test
  void resumingAtAWorldSizeThatCannotKeepTheGlobalBatchIsRefusedBeforeSparkStarts() throws IOException {
    Path ckpt = tmp.resolve("ckpt");
    TrainConfig saved = config(corpus(USABLE), ckpt, Map.of("dModel", 16, "heads", 2, "layers", 1, "microBatch", 2,
        "gradAccumSteps", 3));
    ModelConfig model = saved.modelConfig(256);
    try (GptModel gpt = GptModel.initialised(model, 1); AdamW adam = new AdamW(GptModel.layout(model))) {
      new CheckpointStore(LOCAL, ckpt.toString()).write(new TrainingState(3, 0, 36, 1, saved.toJson(), "byte", 12),
          GptModel.layout(model), gpt.params().flat(), adam);
    }
    TrainingPreflight.check(saved.with("resume", true).with("worldSize", 3), "local[3]", LOCAL);
    TrainConfig four = saved.with("resume", true).with("worldSize", 4).with("microBatch", 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(four, "local[4]", LOCAL));
    assertTrue(e.getMessage().startsWith("the checkpoint's global batch of 12 rows cannot be kept at worldSize=4 x"
        + " microBatch=2 = 8 rows per micro-batch: 8 does not divide 12"), e.getMessage());
  }

  @Test
  void threadsBeyondTheCoresOfALocalMasterAreRefused() throws IOException {
    int cores = Runtime.getRuntime().availableProcessors();
    TrainConfig cfg = config(corpus(USABLE), tmp.resolve("ckpt"), Map.of("threadsPerRank", cores + 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(cfg, "local[2,4]", LOCAL));
    assertEquals("threadsPerRank=" + (cores + 1) + " is more threads than the " + cores + " cores of this machine,"
        + " where master local[2,4] runs every rank, has; use at most " + cores + ", or 0 to follow spark.task.cpus",
        e.getMessage());
    TrainConfig ops = config(corpus(USABLE), tmp.resolve("ckpt"), Map.of("opThreadsPerRank", cores + 1));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainingPreflight.check(ops, "local[*]", LOCAL))
        .getMessage().startsWith("opThreadsPerRank=" + (cores + 1)));
    TrainingPreflight.check(cfg.with("threadsPerRank", cores), "local[2]", LOCAL);
  }

  @Test
  void aRingTimeoutShorterThanACheckpointMayTakeIsRefused() throws IOException {
    TrainConfig cfg = config(corpus(USABLE), tmp.resolve("ckpt"), Map.of("ringTimeoutSeconds", 29));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingPreflight.check(cfg, "local[2]", LOCAL));
    assertTrue(e.getMessage().startsWith("ringTimeoutSeconds=29 is shorter than a checkpoint may take: expected at"
        + " least 30 s (at least 30 s, and twice the 1 s a checkpoint of "), e.getMessage());
    assertTrue(e.getMessage().endsWith("use ringTimeoutSeconds=30 or more"), e.getMessage());
    // GPT-2 small's shape, 124M parameters: 1.5 GB a checkpoint, 75 s at 20 MB/s, so 150 s are needed.
    TrainConfig big = config(corpus(USABLE), tmp.resolve("ckpt"), Map.of("tokenizer", "gpt2", "contextLength", 1024,
        "dModel", 768, "layers", 12, "heads", 12, "ringTimeoutSeconds", 120));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainingPreflight.checkRingTimeout(big))
        .getMessage().contains("expected at least 150 s"));
    TrainingPreflight.checkRingTimeout(big.with("ringTimeoutSeconds", 150));
  }
}
