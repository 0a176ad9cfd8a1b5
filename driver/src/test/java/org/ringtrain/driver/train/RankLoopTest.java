/*
 * Tests of what the rank loop does when training goes wrong, in a real local[2,4] SparkContext:
 * a non-finite gradient norm stops the run without a stage retry and without a checkpoint of it,
 * or is skipped (parameters untouched, counted) up to maxSkippedSteps in a row; and a rank whose
 * task Spark kills ends within a step. Normal training is GptTrainerTest's. Test code only.
 */
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.TaskKilled;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.ops.gpt.ModelConfig;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RankLoopTest {
  private static final ModelConfig MODEL = TinyRuns.model(16, 1);
  private static JavaSparkContext sc;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startSpark() {
    sc = LocalSpark.start("local[2,4]", "RankLoopTest");
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  /** A tiny run of {@code steps} steps with a replica hash after every step; {@code more} overrides. */
  private LoopConfig config(String name, int world, long steps, Object... more) {
    return TinyRuns.config(Map.of("checkpointDir", tmp.resolve(name).toString(), "worldSize", world, "microBatch", 2,
        "steps", steps, "warmupSteps", 0, "evalEvery", 0, "evalBatches", 1, "checkpointEvery", 2,
        "checkReplicasEvery", 1), more);
  }

  private static TrainingResult fit(DataParallelTrainer trainer, ModelRecipe recipe) throws Exception {
    int world = trainer.config().worldSize();
    return trainer.fit(sc, recipe, TinyRuns.rows(sc, 0, 16 * world, world, 0), TinyRuns.rows(sc, 0, 2 * world, world, 0),
        "byte");
  }

  private static String lastName(String path) {
    String p = path.replaceAll("/+$", "");
    return p.substring(p.lastIndexOf('/') + 1);
  }

  @Test
  void stopFailsTheRunAtTheNonFiniteStepWithoutARetryOrACheckpointOfIt() throws Exception {
    LoopConfig cfg = config("stop", 2, 8);
    List<MetricsEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    DataParallelTrainer trainer = new DataParallelTrainer(cfg).withMetricsSink(events::add);

    TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
        () -> fit(trainer, new PoisonedGradientsRecipe(MODEL, 5)));

    assertEquals(6, e.step());
    assertTrue(e.getMessage().contains("step 6 of 8 has a non-finite gradient norm (NaN)"), e.getMessage());
    assertTrue(e.getMessage().contains("every rank's local loss was finite"), e.getMessage());
    assertTrue(e.getMessage().contains("step-000000004"), "names the newest checkpoint: " + e.getMessage());
    assertTrue(events.stream().noneMatch(ev -> ev.event().equals("failure")), "no failed stage: " + events);
    assertTrue(events.stream().filter(ev -> ev.event().equals("resume")).allMatch(ev -> ev.number("attempt") == 0),
        "no second stage attempt: " + events);
    List<String> names = new org.ringtrain.driver.checkpoint.CheckpointStore(
        org.ringtrain.driver.fs.HadoopSettings.defaults(), cfg.checkpoints().checkpointDir(), 3).list().stream()
        .map(RankLoopTest::lastName).toList();
    assertEquals(List.of("step-000000002", "step-000000004"), names, "the newest checkpoint is the last finite one");
  }

  @Test
  void skipLeavesTheParametersOfTheBadStepUntouchedCountsItAndFinishes() throws Exception {
    LoopConfig cfg = config("skip", 2, 6, "onNonFinite", "skip", "maxSkippedSteps", 1);
    List<MetricsEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();

    TrainingResult result = fit(new DataParallelTrainer(cfg).withMetricsSink(events::add),
        new PoisonedGradientsRecipe(MODEL, 2));

    RankResult r0 = result.ranks().get(0);
    assertNull(r0.divergence());
    assertEquals(1, r0.skippedSteps());
    assertEquals(6, r0.lastStep());
    long[] hashes = r0.paramHashes(); // after steps 1..6
    assertEquals(hashes[1], hashes[2], "step 3 was skipped: parameters as after step 2");
    assertNotEquals(hashes[2], hashes[3], "step 4 updates again");
    assertTrue(result.replicasIdentical());
    MetricsEvent step3 = events.stream().filter(ev -> ev.event().equals("step") && ev.number("step") == 3)
        .findFirst().orElseThrow();
    assertEquals(Boolean.TRUE, step3.fields().get("skipped"), step3.toString());
    assertEquals(1.0, step3.number("skipped_steps"), step3.toString());
    assertEquals("step-000000006", lastName(result.finalCheckpoint()));
  }

  @Test
  void moreConsecutiveNonFiniteStepsThanMaxSkippedStepsStop() throws Exception {
    LoopConfig cfg = config("skip-limit", 2, 8, "onNonFinite", "skip", "maxSkippedSteps", 1);

    TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
        () -> fit(new DataParallelTrainer(cfg), new PoisonedGradientsRecipe(MODEL, 2, 3)));

    assertEquals(4, e.step());
    assertTrue(e.getMessage().contains("after 1 consecutive skipped step(s) (maxSkippedSteps=1)"), e.getMessage());
  }

  @Test
  void aRankWhoseTaskIsKilledWithoutInterruptEndsWithinAStep() throws Exception {
    LoopConfig cfg = config("killed", 1, 1_000_000, "checkpointEvery", 1_000_000, "checkReplicasEvery", 0);
    CountDownLatch stepping = new CountDownLatch(1);
    CountDownLatch killedEnded = new CountDownLatch(1);
    AtomicLong firstTask = new AtomicLong(-1);
    AtomicReference<String> group = new AtomicReference<>();
    SparkListener tasks = new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart start) {
        String id = start.properties().getProperty("spark.jobGroup.id");
        if (id != null) {
          group.compareAndSet(null, id);
        }
      }

      @Override
      public void onTaskStart(SparkListenerTaskStart start) {
        if (group.get() != null) { // a rank's task, not one of the job collecting the training rows
          firstTask.compareAndSet(-1, start.taskInfo().taskId());
        }
      }

      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.taskInfo().taskId() == firstTask.get() && end.reason() instanceof TaskKilled) {
          killedEnded.countDown();
        }
      }
    };
    sc.sc().addSparkListener(tasks);
    AtomicReference<Throwable> fitError = new AtomicReference<>();
    DataParallelTrainer trainer = new DataParallelTrainer(cfg).withMetricsSink(ev -> {
      if (ev.event().equals("step")) {
        stepping.countDown();
      }
    });
    Thread fitThread = new Thread(() -> {
      try {
        fit(trainer, new PoisonedGradientsRecipe(MODEL));
      } catch (Throwable t) {
        fitError.set(t);
      }
    }, "fit");
    try {
      fitThread.start();
      assertTrue(stepping.await(90, TimeUnit.SECONDS), "the rank never reported a step");
      // As Spark kills the other tasks of a failed barrier stage: no thread interrupt, only the flag.
      sc.sc().killTaskAttempt(firstTask.get(), false, "killed by RankLoopTest");
      assertTrue(killedEnded.await(20, TimeUnit.SECONDS), "the killed rank kept running");
    } finally {
      // Ends the stage's retry. By group, not cancelAllJobs: that only reaches jobs with a running
      // stage, and this one may sit between its failed attempt and the resubmitted one.
      if (group.get() != null) {
        sc.cancelJobGroup(group.get());
      }
      fitThread.join(TimeUnit.SECONDS.toMillis(60));
      sc.sc().removeSparkListener(tasks);
    }
    assertTrue(fitError.get() != null, "the cancelled run must not return a result");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (rankLoopRunning() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(!rankLoopRunning(), "no rank loop may be left running after the job was cancelled");
  }

  private static boolean rankLoopRunning() {
    return Thread.getAllStackTraces().values().stream().flatMap(Arrays::stream)
        .anyMatch(f -> f.getClassName().equals(RankLoop.class.getName())
            || f.getClassName().startsWith(RankLoop.class.getName() + "$"));
  }
}
