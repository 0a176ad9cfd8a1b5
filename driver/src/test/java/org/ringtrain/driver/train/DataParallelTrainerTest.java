/*
 * DataParallelTrainerTest: the checks DataParallelTrainer makes before any Spark work (a checkpoint
 * directory leased by another run is refused, naming that run; a resume whose world size cannot
 * keep the checkpoint's global batch is refused), and the resume matrix in a real local[4]
 * SparkContext: a run stopped at step 10 on N ranks and resumed on M ranks continues with exactly
 * the rows, and within 1e-5 the losses, of an uninterrupted M-rank run, with and without optimizer
 * sharding on either side. Normal training is
 * GptTrainerTest's.
 */
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.checkpoint.CheckpointLease;
import org.ringtrain.driver.config.FlatSettings;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.ops.gpt.ModelConfig;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DataParallelTrainerTest {
  private static final ModelConfig MODEL = TinyRuns.model(16, 1);
  /** Rows per step: 12 = M x microBatch 1 x gradAccumSteps for M = 1, 2, 3, 4. */
  private static final int GLOBAL_BATCH = 12;
  /** 50 rows: 4 steps an epoch (2 rows left over), so step 10 stops in the middle of epoch 2. */
  private static final int TRAIN_ROWS = 50;
  private static final long STEPS = 20;
  private static final long STOP = 10;
  private static JavaSparkContext sc;

  @TempDir
  Path dir;

  @BeforeAll
  static void startSpark() {
    sc = LocalSpark.start("local[4,4]", "DataParallelTrainerTest");
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  @Test
  void aCheckpointDirectoryLeasedByAnotherRunIsRefusedBeforeSparkStarts() throws Exception {
    Map<String, Object> flat = new LinkedHashMap<>(LoopConfig.defaults());
    flat.put("checkpointDir", dir.toString());
    flat.put("resume", true); // even a resume may not share a directory with a running fit
    LoopConfig config = FlatSettings.read(LoopConfig.class, flat, "train config");
    HadoopSettings hadoop = HadoopSettings.defaults();
    try (CheckpointLease running = CheckpointLease.acquire(hadoop, dir.toString(), "run-running",
        Duration.ofMinutes(2))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> DataParallelTrainer.checkCheckpointDir(config, hadoop));
      assertTrue(e.getMessage().contains("in use by run run-running"), e.getMessage());
    }
    DataParallelTrainer.checkCheckpointDir(config, hadoop);
  }

  /**
   * Each pair N→M: the run stopped at step 10 on N ranks (the first half of the uninterrupted
   * N-rank run, whose step-10 checkpoint it copies) resumed on M ranks, for all 16 pairs of N, M
   * in 1..4.
   */
  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void aRunStoppedOnNRanksResumesOnMRanksWithTheRowsAndLossesOfAnUninterruptedMRankRun() throws Exception {
    List<int[]> pairs = new ArrayList<>();
    for (int from = 1; from <= 4; from++) {
      for (int to = 1; to <= 4; to++) {
        pairs.add(new int[] {from, to});
      }
    }
    Map<Integer, Run> uninterrupted = new HashMap<>();
    for (int world = 1; world <= 4; world++) {
      uninterrupted.put(world, run(config("straight-" + world, world, 12 / world, false), world));
    }
    Run one = uninterrupted.get(1);
    for (int world = 2; world <= 4; world++) {
      assertSameSteps(one, uninterrupted.get(world), 1, STEPS, "uninterrupted 1 vs " + world + " ranks");
    }
    for (int[] pair : pairs) {
      int from = pair[0];
      int to = pair[1];
      String name = "resumed-" + from + "-" + to;
      copyCheckpoint(dir.resolve("straight-" + from).resolve("step-000000010"), dir.resolve(name));
      // The configured gradAccumSteps (1) is overridden by the checkpoint's global batch of 12.
      Run resumed = run(config(name, to, 1, true), to);
      assertEquals(STOP, resumed.result.ranks().get(0).firstStep(), name + " resumes after step 10");
      assertEquals(GLOBAL_BATCH / to, resumed.resume.number("grad_accum_steps"), name + ": " + resumed.resume);
      assertSameSteps(uninterrupted.get(to), resumed, STOP + 1, STEPS, name);
    }
  }

  /**
   * The matrix with optimizer sharding: a checkpoint with per-rank optimizer slices written on N
   * ranks resumes on M ranks, sharded or not, and an unsharded one resumes sharded, each with the
   * rows and (within 1e-5) the losses of the uninterrupted unsharded M-rank run.
   */
  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void shardedCheckpointsResumeOnAnyWorldSizeShardedOrNotWithTheRowsAndLossesOfAnUninterruptedRun()
      throws Exception {
    // {N, M, written sharded (1) or not (0), resumed sharded (1) or not (0)}
    int[][] cases = {{2, 3, 1, 1}, {4, 1, 1, 0}, {3, 2, 1, 1}, {1, 4, 0, 1}};
    Map<String, Run> straight = new HashMap<>();
    for (int[] c : cases) {
      for (int world : new int[] {c[0], c[1]}) {
        straight.computeIfAbsent("straight-" + world, name -> runUnchecked(config(name, world, 12 / world, false), world));
      }
      if (c[2] == 1) {
        straight.computeIfAbsent("sharded-" + c[0], name -> runUnchecked(config(name, c[0], 12 / c[0], false,
            "optimizerSharding", true), c[0]));
      }
    }
    for (int[] c : cases) {
      String source = (c[2] == 1 ? "sharded-" : "straight-") + c[0];
      String name = "resumed-" + source + "-to-" + c[1] + (c[3] == 1 ? "-sharded" : "");
      copyCheckpoint(dir.resolve(source).resolve("step-000000010"), dir.resolve(name));
      Run resumed = run(config(name, c[1], 1, true, "optimizerSharding", c[3] == 1), c[1]);
      assertEquals(STOP, resumed.result.ranks().get(0).firstStep(), name + " resumes after step 10");
      assertTrue(resumed.result.replicasIdentical(), name + ": replicas stay identical");
      assertSameSteps(straight.get("straight-" + c[1]), resumed, STOP + 1, STEPS, name);
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aResumeWhoseRanksCannotKeepTheGlobalBatchIsRefusedBeforeSparkWork() throws Exception {
    run(config("short", 2, 6, false, "steps", STOP), 2);
    LoopConfig five = config("short", 2, 1, true, "microBatch", 5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(five, 2));
    assertTrue(e.getMessage().contains("global batch of 12 rows cannot be kept at worldSize=2 x microBatch=5"),
        e.getMessage());
  }

  /** Steps {@code first..last} (1-based) of both runs used the same rows and have losses within 1e-5. */
  private static void assertSameSteps(Run expected, Run actual, long first, long last, String what) {
    for (long step = first; step <= last; step++) {
      MetricsEvent want = expected.steps.get(step);
      MetricsEvent got = actual.steps.get(step);
      assertNotNull(want.fields().get("samples_hash"), what + ": step " + step + " reports its rows' hash");
      assertEquals(want.fields().get("samples_hash"), got.fields().get("samples_hash"),
          what + ": the rows of step " + step);
      assertEquals(want.number("loss"), got.number("loss"), 1e-5, what + ": the loss of step " + step);
    }
  }

  /** A fitted run: its result, its step events by step and its resume event. */
  private record Run(TrainingResult result, Map<Long, MetricsEvent> steps, MetricsEvent resume) {
  }

  private static Run runUnchecked(LoopConfig cfg, int world) {
    try {
      return run(cfg, world);
    } catch (Exception e) {
      throw new IllegalStateException("run of " + cfg.checkpoints().checkpointDir() + " failed: " + e, e);
    }
  }

  private static Run run(LoopConfig cfg, int world) throws Exception {
    List<MetricsEvent> events = new CopyOnWriteArrayList<>();
    TrainingResult result = new DataParallelTrainer(cfg).withMetricsSink(events::add)
        .fit(sc, new PoisonedGradientsRecipe(MODEL), TinyRuns.rows(sc, 0, TRAIN_ROWS, world, 11),
            TinyRuns.rows(sc, 1000, 2 * world, world, 11), "byte");
    Map<Long, MetricsEvent> steps = new HashMap<>();
    events.stream().filter(e -> e.event().equals("step")).forEach(e -> steps.put((long) e.number("step"), e));
    MetricsEvent resume = events.stream().filter(e -> e.event().equals("resume")).findFirst().orElseThrow();
    return new Run(result, steps, resume);
  }

  /** The tiny run of every test: {@value #STEPS} steps, a checkpoint at step 10; {@code more} overrides. */
  private LoopConfig config(String name, int world, int accum, boolean resume, Object... more) {
    Map<String, Object> m = new LinkedHashMap<>(Map.of("checkpointDir", dir.resolve(name).toString(), "worldSize",
        world, "microBatch", 1, "gradAccumSteps", accum, "steps", STEPS, "warmupSteps", 2, "evalEvery", 0,
        "evalBatches", 1, "checkpointEvery", STOP, "checkReplicasEvery", 5));
    m.putAll(Map.of("resume", resume, "learningRate", 3e-3));
    return TinyRuns.config(m, more);
  }

  private static void copyCheckpoint(Path checkpoint, Path toDir) throws IOException {
    Path target = toDir.resolve(checkpoint.getFileName());
    Files.createDirectories(target);
    try (Stream<Path> files = Files.list(checkpoint)) {
      files.forEach(f -> {
        try {
          Files.copy(f, target.resolve(f.getFileName()));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
