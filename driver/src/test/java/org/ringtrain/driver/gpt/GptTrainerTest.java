// Data-parallel GPT training end to end in a real local[2,4] SparkContext with
// Kryo (registration required): barrier stage, ring, checkpoints, metrics,
// resume, retry after an injected failure, dropout reaching the steps, the equivalences that make data
// parallelism trustworthy, and that fit returns the model of its own run.
// Why over 300 lines: one local SparkSession serves every training case (equivalence, retry, resume, fit's result).
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.driver.train.DataParallelTrainer;
import org.ringtrain.driver.train.LocalSpark;
import org.ringtrain.driver.train.ModelRecipe;
import org.ringtrain.driver.train.RankResult;
import org.ringtrain.driver.train.TrainingResult;
import org.ringtrain.ops.gpt.GptModel;

@Timeout(value = 300, unit = TimeUnit.SECONDS)
class GptTrainerTest {
  private static final int VOCAB = 256;
  private static final int T = 16;
  private static JavaSparkContext sc;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startSpark() {
    sc = LocalSpark.start("local[2,4]", "GptTrainerTest");
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  /** A tiny model and run; every test starts from this and changes what it needs. */
  private TrainConfig config(String name, int world, int microBatch, long steps) {
    return TrainConfig.fromLayers(Map.of("input", "unused-by-fit", "checkpointDir", tmp.resolve(name).toString(),
        "contextLength", T, "dModel", 32, "layers", 2, "heads", 2),
        Map.of("worldSize", world, "microBatch", microBatch, "steps", steps, "learningRate", 3e-3,
            "minLearningRate", 3e-4),
        Map.of("warmupSteps", 1, "evalEvery", 5, "evalBatches", 2, "checkpointEvery", 5, "checkReplicasEvery", 1,
            "bucketMb", 1, "ringTimeoutSeconds", 60));
  }

  /** Sequence i: a pattern a small model can learn quickly. */
  private static int[] sequence(int i) {
    int[] s = new int[T + 1];
    for (int j = 0; j <= T; j++) {
      s[j] = (i * 7 + j * 3 + (j % 4 == 0 ? 11 : 0)) % VOCAB;
    }
    return s;
  }

  private static JavaRDD<int[]> rdd(List<int[]> rows, int partitions) {
    return sc.parallelize(rows, partitions);
  }

  /** Sequences {@code from..from+count-1} (see {@link #sequence}); the other GPT training tests share them. */
  static List<int[]> sequences(int from, int count) {
    List<int[]> rows = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      rows.add(sequence(i));
    }
    return rows;
  }

  private TrainedGpt train(TrainConfig cfg, List<int[]> train, List<int[]> val) throws Exception {
    return new GptTrainer(cfg).fit(sc, rdd(train, cfg.loop().worldSize()), rdd(val, cfg.loop().worldSize()), "byte", VOCAB);
  }

  private TrainingResult fit(TrainConfig cfg, List<int[]> train, List<int[]> val) throws Exception {
    return train(cfg, train, val).summary();
  }

  @Test
  void twoRanksTrainKeepBitwiseIdenticalReplicasAndReportEveryStep() throws Exception {
    TrainConfig cfg = config("basic", 2, 4, 12);
    TrainingResult result = fit(cfg, sequences(0, 64), sequences(1000, 8));

    assertEquals(2, result.ranks().size());
    assertEquals(12, result.ranks().get(0).hashSteps().length, "a replica check after every step");
    assertTrue(result.replicasIdentical(), "every rank must hold bitwise-identical parameters after every step");
    double[] losses = result.ranks().get(0).losses();
    assertArrayEquals(losses, result.ranks().get(1).losses(), "all ranks see the same global loss");
    assertTrue(losses[losses.length - 1] < losses[0] - 0.1, "loss should fall: " + losses[0] + " -> "
        + losses[losses.length - 1]);
    assertTrue(Math.abs(losses[0] - Math.log(VOCAB)) < 0.5, "initial loss near ln(V): " + losses[0]);
    assertFalse(Double.isNaN(result.validationLoss()));

    List<String> stepLines = Files.readAllLines(Path.of(cfg.loop().resolvedMetricsLog())).stream()
        .filter(l -> l.contains("\"event\":\"step\"")).toList();
    assertEquals(12, stepLines.size(), "one JSON line per step in the metrics log");
    assertEquals(12.0, MetricsEvent.fromJson(stepLines.get(11)).number("step"));
    double mfu = MetricsEvent.fromJson(stepLines.get(11)).number("mfu");
    assertTrue(mfu > 0 && mfu < 1, "MFU against rank 0's measured sgemm peak: " + mfu);
    try (var files = Files.list(tmp.resolve("basic/tensorboard"))) {
      assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("events.out.tfevents.")),
          "a TensorBoard event file beside the checkpoints");
    }
    byte[] png = Files.readAllBytes(tmp.resolve("basic/loss.png"));
    assertEquals((byte) 0x89, png[0], "loss.png starts with the PNG signature");
    assertEquals('P', png[1]);
    List<String> names = result.checkpoints().stream().map(p -> p.replaceAll("/$", ""))
        .map(p -> p.substring(p.lastIndexOf('/') + 1)).toList();
    assertEquals(List.of("step-000000005", "step-000000010", "step-000000012"), names,
        "checkpoints every 5 steps and at the end, the newest 3 kept");
  }

  @Test
  void metricsReachTheDriverWhileTheStageIsStillRunning() throws Exception {
    TrainConfig cfg = config("live", 2, 4, 6);
    java.util.concurrent.atomic.AtomicInteger liveSteps = new java.util.concurrent.atomic.AtomicInteger();
    new GptTrainer(cfg).withMetricsSink(e -> {
      if (e.event().equals("step") && sc.statusTracker().getActiveJobIds().length > 0) {
        liveSteps.incrementAndGet(); // arrived while the training job was running
      }
    }).fit(sc, rdd(sequences(0, 32), 2), rdd(sequences(60, 4), 2), "byte", VOCAB);
    assertTrue(liveSteps.get() >= 5, "step events seen during the run: " + liveSteps.get());
  }

  @Test
  void theSparkUiShowsProgressWhileTrainingRuns() throws Exception {
    List<String> descriptions = java.util.Collections.synchronizedList(new ArrayList<>());
    org.apache.spark.scheduler.SparkListener jobs = new org.apache.spark.scheduler.SparkListener() {
      @Override
      public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart job) {
        String d = job.properties() == null ? null : job.properties().getProperty("spark.job.description");
        if (d != null) {
          descriptions.add(d);
        }
      }
    };
    sc.sc().addSparkListener(jobs);
    try {
      fit(config("ui", 2, 4, 6), sequences(0, 32), sequences(60, 4));
      long deadline = System.nanoTime() + 10_000_000_000L; // the listener bus is asynchronous
      while (descriptions.stream().noneMatch(d -> d.startsWith("ringtrain train: step 6/6, loss"))
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } finally {
      sc.sc().removeSparkListener(jobs);
    }
    assertTrue(descriptions.contains("ringtrain train: 6 steps on 2 ranks"), descriptions.toString());
    long milestones = descriptions.stream().filter(d -> d.matches("ringtrain train: step \\d/6, loss \\d+\\.\\d\\d"))
        .count();
    assertEquals(6, milestones, "one milestone per step for a 6-step run: " + descriptions);
  }

  @ParameterizedTest(name = "dropout {0}")
  @ValueSource(doubles = {0.0, 0.1})
  void twoRanksWithBatchBMatchOneRankWithBatch2B(double dropout) throws Exception {
    // The data order is global: at step k both runs use rows 4k..4k+3 of the one order, rank r of
    // the 2-rank run rows {4k + 2r, 4k + 2r + 1}. Dropout masks are keyed by the global row index
    // and the step, so they follow a row to whichever rank trains it.
    List<int[]> ordered = sequences(0, 40);
    TrainConfig two = config("dp2-" + dropout, 2, 2, 5).with("shuffle", false).with("dropout", dropout);
    TrainConfig one = config("dp1-" + dropout, 1, 4, 5).with("shuffle", false).with("dropout", dropout);
    float[] a = train(two, ordered, sequences(500, 4)).weights();
    float[] b = train(one, ordered, sequences(500, 4)).weights();
    double diff = 0;
    double norm = 0;
    double worstAbs = 0;
    int worstAt = 0;
    for (int i = 0; i < a.length; i++) {
      diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
      norm += b[i] * (double) b[i];
      if (Math.abs(a[i] - b[i]) > worstAbs) {
        worstAbs = Math.abs(a[i] - b[i]);
        worstAt = i;
      }
    }
    double relative = Math.sqrt(diff / norm);
    assertTrue(relative < 1e-5, "parameters after 5 steps differ by a relative " + relative + " (largest: "
        + worstAbs + " at " + worstAt + ", " + a[worstAt] + " vs " + b[worstAt] + ")");
  }

  @Test
  void dropoutReachesTheTrainingStepsAndReplicasStayIdentical() throws Exception {
    TrainingResult plain = fit(config("nodrop", 2, 4, 3), sequences(0, 32), sequences(500, 4));
    TrainingResult dropped = fit(config("drop", 2, 4, 3).with("dropout", 0.1), sequences(0, 32), sequences(500, 4));
    assertTrue(dropped.replicasIdentical(), "every rank applies the same update with dropout on");
    double first = plain.ranks().get(0).losses()[0];
    double firstDropped = dropped.ranks().get(0).losses()[0];
    // Same weights, same rows at step 1: only the masks differ.
    assertTrue(first != firstDropped && Math.abs(first - firstDropped) < 0.5, first + " vs " + firstDropped);
  }

  @Test
  void resumingFromACheckpointGivesTheSameLossesAsNotStopping() throws Exception {
    // A constant learning rate makes a 10-step run the first half of a 20-step run.
    TrainConfig straight = config("straight", 2, 4, 20).with("minLearningRate", 3e-3).with("warmupSteps", 0);
    double[] full = fit(straight, sequences(0, 48), sequences(900, 8)).ranks().get(0).losses();

    TrainConfig half = straight.with("checkpointDir", tmp.resolve("halves").toString()).with("steps", 10);
    fit(half, sequences(0, 48), sequences(900, 8));
    TrainingResult second = fit(half.with("steps", 20).with("resume", true), sequences(0, 48), sequences(900, 8));
    RankResult rank0 = second.ranks().get(0);
    assertEquals(10, rank0.firstStep(), "the resumed run starts after the checkpoint of step 10");
    for (int i = 0; i < 10; i++) {
      assertEquals(full[10 + i], rank0.losses()[i], 1e-5, "loss of step " + (11 + i));
    }
  }

  @Test
  void aRankThatFailsIsRetriedAndResumesToTheSameResult() throws Exception {
    TrainConfig cfg = config("clean", 2, 4, 10);
    TrainingResult clean = fit(cfg, sequences(0, 48), sequences(700, 8));
    TrainConfig failing = cfg.with("checkpointDir", tmp.resolve("failing").toString());
    TrainingResult retried = new GptTrainer(failing).withFault(7, 1)
        .fit(sc, rdd(sequences(0, 48), 2), rdd(sequences(700, 8), 2), "byte", VOCAB).summary();

    RankResult r0 = retried.ranks().get(0);
    assertTrue(r0.stageAttempt() > 0, "the result must come from a retried stage attempt");
    assertEquals(5, r0.firstStep(), "the retry resumes from the checkpoint of step 5");
    assertEquals(clean.finalLoss(), retried.finalLoss(), 1e-5, "final loss with and without the failure");
    assertTrue(retried.replicasIdentical());
    assertTrue(retried.finalCheckpoint().endsWith("/step-000000010"), "the retry wrote the final checkpoint: "
        + retried.finalCheckpoint());
    List<String> events = Files.readAllLines(Path.of(failing.loop().resolvedMetricsLog())).stream()
        .map(l -> MetricsEvent.fromJson(l).event()).toList();
    int failure = events.indexOf("failure");
    int resume = events.lastIndexOf("resume");
    assertTrue(failure >= 0 && resume > failure, "the metrics log shows the failure, then the resume: " + events);
  }

  @Test
  void aCorruptNewestCheckpointIsSkippedForThePreviousOne() throws Exception {
    TrainConfig cfg = config("corrupt", 2, 4, 10);
    fit(cfg, sequences(0, 48), sequences(700, 8));
    Path newest = tmp.resolve("corrupt/step-000000010/model.safetensors");
    try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
      f.seek(f.length() / 2);
      int b = f.read();
      f.seek(f.length() / 2);
      f.write(b ^ 0xFF);
    }
    TrainingResult resumed = fit(cfg.with("steps", 12).with("resume", true), sequences(0, 48), sequences(700, 8));
    assertEquals(5, resumed.ranks().get(0).firstStep(), "step 10's checkpoint is corrupt: resume from step 5");
  }

  @Test
  void problemsThatCanBeSeenBeforeTrainingAreReportedBeforeAnyWork() throws Exception {
    TrainConfig tooMany = config("slots", 3, 4, 2);
    IllegalArgumentException slots = assertThrows(IllegalArgumentException.class,
        () -> fit(tooMany, sequences(0, 24), sequences(50, 3)));
    assertTrue(slots.getMessage().contains("needs 3 concurrent task slots but the cluster offers 2"),
        slots.getMessage());

    TrainConfig first = config("reuse", 2, 4, 2);
    fit(first, sequences(0, 24), sequences(50, 4));
    IllegalArgumentException reuse = assertThrows(IllegalArgumentException.class,
        () -> fit(first, sequences(0, 24), sequences(50, 4)));
    assertTrue(reuse.getMessage().contains("pass --resume"), reuse.getMessage());
  }

  @Test
  void trainedWeightsGenerateTextWithAKvCache() throws Exception {
    TrainConfig cfg = config("generate", 2, 4, 3);
    TrainedGpt model = train(cfg, sequences(0, 24), sequences(50, 4));
    assertEquals(3, model.step());
    assertTrue(model.checkpoint().endsWith("/step-000000003"), model.checkpoint());
    assertEquals(3, model.summary().ranks().get(0).losses().length);
    TrainedGpt loaded = TrainedGpt.load(cfg.loop().checkpoints().checkpointDir(), HadoopSettings.defaults());
    assertArrayEquals(model.weights(), loaded.weights(), "fit's model is what the directory's final checkpoint holds");
    assertFalse(loaded.hasSummary());
    IllegalStateException noSummary = assertThrows(IllegalStateException.class, loaded::summary);
    assertTrue(noSummary.getMessage().contains("not trained by GptTrainer.fit"), noSummary.getMessage());
    String text = model.generate("ab", 40, 0.0, 0, 1); // past the 16-token context: sliding window
    assertTrue(text.startsWith("ab") && text.length() >= 2, text);
    try (GptModel m = model.newModel()) {
      assertEquals(m.layout().totalElements(), model.weights().length);
    }
  }

  @Test
  void fitReturnsItsOwnFinalCheckpointWhenAnotherRunWroteANewerOneIntoTheDirectory() throws Exception {
    TrainConfig cfg = config("shared", 2, 4, 8);
    ModelRecipe sharing = new AnotherRunCheckpointRecipe(cfg.modelConfig(VOCAB), cfg, cfg.with("seed", 99L), 1000);
    TrainingResult result = new DataParallelTrainer(cfg.loop()).fit(sc, sharing, rdd(sequences(0, 48), 2),
        rdd(sequences(700, 8), 2), "byte");

    List<String> inDirectory = result.checkpoints();
    assertTrue(inDirectory.get(inDirectory.size() - 1).endsWith("/step-000001000"),
        "the other run's checkpoint is the newest in the directory: " + inDirectory);
    assertTrue(result.finalCheckpoint().endsWith("/step-000000008"), "this run ended at step 8, but fit's result "
        + "names " + result.finalCheckpoint());
    TrainedGpt mine = TrainedGpt.of(result, sharing.layout(), HadoopSettings.defaults());
    assertEquals(result.finalCheckpoint(), mine.checkpoint());
    assertEquals(8, mine.step());
    assertEquals(cfg.loop().seed(), mine.config().loop().seed(), "the checkpoint's config is this run's");
    assertSame(result, mine.summary());
    TrainedGpt newest = TrainedGpt.load(cfg.loop().checkpoints().checkpointDir(), HadoopSettings.defaults());
    assertEquals(1000, newest.step(), "loading the directory gives the other run's checkpoint");
    assertFalse(Arrays.equals(newest.weights(), mine.weights()), "the two runs' weights differ");
  }
}
