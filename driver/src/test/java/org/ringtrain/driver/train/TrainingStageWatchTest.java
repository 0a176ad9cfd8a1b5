// TrainingStageWatch fed with Spark's own listener events (the objects Spark's listener bus
// delivers, built here as the DAGScheduler builds them) and a hand-driven clock: when it gives up
// on a retry that cannot start, what the summary names, and what it leaves alone. The real thing,
// a host cut off for good on a standalone cluster, is HostsClusterTrainingTest's.
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.TaskResultLost$;
import org.apache.spark.executor.ExecutorMetrics;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.rdd.DeterministicLevel;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.scheduler.TaskInfo;
import org.apache.spark.scheduler.TaskLocality;
import org.apache.spark.storage.RDDInfo;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.metrics.MetricsEvent;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class TrainingStageWatchTest {
  private static final String GROUP = "ringtrain-train-test";
  private static final int STAGE = 7;
  private static final int WORLD = 4;
  private static final long SECOND = 1_000_000_000L;
  private static final String RING_FAILURE = "Stage failed because barrier task ShuffleMapTask(7, 0) finished"
      + " unsuccessfully.\norg.ringtrain.sync.RingException: timeout failed with rank 3 (10.213.0.5:41233): no data"
      + " for 10000 ms\n\tat org.ringtrain.sync.RingLink.read(RingLink.java:1)\n\tat java.base/Thread.run";

  private final AtomicLong now = new AtomicLong(1_000 * SECOND);
  private final List<String> gaveUp = new ArrayList<>();
  private final List<MetricsEvent> published = new ArrayList<>();
  private final TrainingStageWatch watch = new TrainingStageWatch(GROUP, WORLD, 4, Duration.ofSeconds(10),
      published::add, gaveUp::add, now::get);

  @Test
  void aRetryHeldBackByARankThatNeverEndedGivesUpAfterOneRingTimeoutPerAttemptLeftNamingItsHost() {
    attemptZeroFailsWhileRankThreeOnHostFiveNeverEnds();
    watch.onStageSubmitted(new SparkListenerStageSubmitted(stage(1, null), new Properties()));
    now.addAndGet(29 * SECOND);
    watch.check();
    assertTrue(gaveUp.isEmpty(), "3 attempts left x 10 s: not yet at 29 s");
    now.addAndGet(SECOND);
    watch.check();
    watch.check();
    assertEquals(1, gaveUp.size(), "gives up once, at 30 s");
    String summary = gaveUp.get(0);
    assertTrue(summary.contains("attempt 1 of the training stage could not start its 4 ranks: after 30 s"), summary);
    assertTrue(summary.contains("rank 3 of attempt 0 on host 10.213.0.5 (executor 4)"), summary);
    assertTrue(summary.contains("attempt 0: Stage failed because barrier task ShuffleMapTask(7, 0) finished"
        + " unsuccessfully. org.ringtrain.sync.RingException: timeout failed with rank 3 (10.213.0.5:41233)"), summary);
    assertFalse(summary.contains("RingLink.read"), "no stack trace: " + summary);
    assertTrue(summary.contains("spark.stage.maxConsecutiveAttempts=4"), summary);
    assertTrue(watch.exhausted());
    assertEquals(4, watch.attemptsUsed());
    assertEquals(List.of("10.213.0.5"), watch.unreachableHosts());
    assertEquals(List.of("failure", "failure", "failure"), published.stream().map(MetricsEvent::event).toList(),
        "the failed attempt's completions and the give-up reach the metrics stream");
    TrainingStageFailedException failed = watch.failure(new Exception("Job 3 cancelled"), "file:/runs/step-000000005");
    assertTrue(failed.getMessage().startsWith("training failed: " + summary + ". The newest checkpoint is"
        + " file:/runs/step-000000005. To go on: bring back host(s) 10.213.0.5 or give the cluster executors"
        + " elsewhere"), failed.getMessage());
    assertEquals(4, failed.attempts());
    assertEquals(List.of("10.213.0.5"), failed.unreachableHosts());
    assertEquals("Job 3 cancelled", failed.getCause().getMessage());
  }

  @Test
  void aStageThatFailsEveryAttemptSparkAllowsListsEachAttempt() {
    watch.onJobStart(new SparkListenerJobStart(1, 0L, seq(stage(0, null)), groupProperties(GROUP)));
    for (int attempt = 0; attempt < 4; attempt++) {
      assertFalse(watch.exhausted(), "after " + attempt + " failed attempts");
      watch.onStageSubmitted(new SparkListenerStageSubmitted(stage(attempt, null), new Properties()));
      watch.onStageCompleted(new SparkListenerStageCompleted(stage(attempt, RING_FAILURE)));
    }
    assertTrue(watch.exhausted());
    String message = watch.failure(new Exception("Job aborted"), null).getMessage();
    assertTrue(message.startsWith("training failed: the training stage failed in each of the 4 attempts"
        + " spark.stage.maxConsecutiveAttempts allows: attempt 0: Stage failed because"), message);
    assertTrue(message.contains("; attempt 3: Stage failed because"), message);
    assertTrue(message.contains("The newest checkpoint is none yet. To go on: fix what failed the ranks (above)"),
        message);
  }

  @Test
  void aRetryWhoseRanksAllStartIsLeftAloneHoweverLongItRuns() {
    attemptZeroFailsWhileRankThreeOnHostFiveNeverEnds();
    watch.onStageSubmitted(new SparkListenerStageSubmitted(stage(1, null), new Properties()));
    for (int rank = 0; rank < WORLD; rank++) {
      watch.onTaskStart(new SparkListenerTaskStart(STAGE, 1, task(100 + rank, rank, "exec-" + rank, "10.213.0.9")));
    }
    now.addAndGet(3600 * SECOND);
    watch.check();
    assertTrue(gaveUp.isEmpty());
    assertFalse(watch.exhausted(), "one failed attempt of four");
  }

  @Test
  void theFirstAttemptIsNeverGivenUpOnAndOtherJobGroupsAreNotWatched() {
    watch.onJobStart(new SparkListenerJobStart(1, 0L, seq(stage(0, null)), groupProperties("another-group")));
    watch.onStageSubmitted(new SparkListenerStageSubmitted(stage(0, null), new Properties()));
    watch.onStageCompleted(new SparkListenerStageCompleted(stage(0, RING_FAILURE)));
    assertTrue(published.isEmpty(), "another group's stage failure is not this run's");
    watch.onJobStart(new SparkListenerJobStart(2, 0L, seq(stage(0, null)), groupProperties(GROUP)));
    watch.onStageSubmitted(new SparkListenerStageSubmitted(stage(0, null), new Properties()));
    now.addAndGet(3600 * SECOND);
    watch.check();
    assertTrue(gaveUp.isEmpty(), "attempt 0 waits for slots as Spark decides");
  }

  @Test
  void aLostExecutorIsNamedWithItsHostAndSparksReason() {
    attemptZeroFailsWhileRankThreeOnHostFiveNeverEnds();
    watch.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "4", "Executor heartbeat timed out after 120001 ms"));
    watch.onStageSubmitted(new SparkListenerStageSubmitted(stage(1, null), new Properties()));
    now.addAndGet(30 * SECOND);
    watch.check();
    assertEquals(1, gaveUp.size());
    assertTrue(gaveUp.get(0).contains("Executors lost: 4 on host 10.213.0.5 (Executor heartbeat timed out after"
        + " 120001 ms)"), gaveUp.get(0));
  }

  @Test
  void sparksAbortWaitsForTheLastAttemptsToArriveOnTheListenerBusAndACancellationIsNotTheStagesEnd()
      throws Exception {
    watch.onJobStart(new SparkListenerJobStart(1, 0L, seq(stage(0, null)), groupProperties(GROUP)));
    for (int attempt = 0; attempt < 3; attempt++) {
      watch.onStageCompleted(new SparkListenerStageCompleted(stage(attempt, RING_FAILURE)));
    }
    assertFalse(watch.endedTheStage(new Exception("Job 3 cancelled part of cancelled job group x")));
    Thread bus = new Thread(() -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      watch.onStageCompleted(new SparkListenerStageCompleted(stage(3, RING_FAILURE)));
    });
    bus.start();
    assertTrue(watch.endedTheStage(new Exception("Job aborted due to stage failure: ShuffleMapStage 7 (ringtrain"
        + " train) has failed the maximum allowable number of times: 4. Most recent failure reason: ...")));
    bus.join();
    String message = watch.failure(new Exception("Job aborted"), null).getMessage();
    assertTrue(message.contains("; attempt 3: Stage failed because"), "the late fourth attempt is listed: " + message);
    assertEquals(4, watch.failure(new Exception("Job aborted"), null).attempts());
  }

  @Test
  void failureReasonsLoseTheirStackTracesAndAreCut() {
    assertEquals("a b", TrainingStageWatch.firstLines("a\n\tat x.y(Z.java:1)\nb\n\t... 3 more\n"));
    assertEquals(603, TrainingStageWatch.firstLines("x".repeat(1000)).length());
  }

  /** Attempt 0 runs ranks 0-3 (rank 3 on 10.213.0.5); 0-2 fail, rank 3's end never reaches the driver. */
  private void attemptZeroFailsWhileRankThreeOnHostFiveNeverEnds() {
    watch.onJobStart(new SparkListenerJobStart(1, 0L, seq(stage(0, null)), groupProperties(GROUP)));
    watch.onStageSubmitted(new SparkListenerStageSubmitted(stage(0, null), new Properties()));
    for (int rank = 0; rank < WORLD; rank++) {
      String host = rank == 3 ? "10.213.0.5" : "10.213.0." + (rank + 2);
      watch.onTaskStart(new SparkListenerTaskStart(STAGE, 0, task(rank, rank, Integer.toString(rank + 1), host)));
    }
    for (int rank = 0; rank < 3; rank++) {
      watch.onTaskEnd(new SparkListenerTaskEnd(STAGE, 0, "ShuffleMapTask",
          TaskResultLost$.MODULE$,
          task(rank, rank, Integer.toString(rank + 1), "10.213.0." + (rank + 2)), new ExecutorMetrics(),
          new TaskMetrics()));
    }
    watch.onStageCompleted(new SparkListenerStageCompleted(stage(0, RING_FAILURE)));
    // Spark completes the failed attempt again for each further failed task: a neighbour that closed.
    watch.onStageCompleted(new SparkListenerStageCompleted(stage(0, "Stage failed because barrier task"
        + " ShuffleMapTask(7, 1) finished unsuccessfully.\nclosed failed with rank 0")));
  }

  /** The barrier stage as the DAGScheduler describes it: WORLD tasks over a barrier RDD. */
  private static StageInfo stage(int attempt, String failure) {
    RDDInfo barrier = new RDDInfo(3, "MapPartitionsRDD", WORLD, StorageLevel.NONE(), true,
        CollectionConverters.asScala(List.<Object>of()).toList(), "ringtrain train", Option.empty(),
        DeterministicLevel.DETERMINATE());
    StageInfo info = new StageInfo(STAGE, attempt, "ringtrain train", WORLD, seq(barrier),
        CollectionConverters.asScala(List.<Object>of()).toList(), "", new TaskMetrics(),
        CollectionConverters.asScala(List.<scala.collection.immutable.Seq<org.apache.spark.scheduler.TaskLocation>>of())
            .toList(), Option.empty(), 0, false, 0);
    if (failure != null) {
      info.stageFailed(failure);
    }
    return info;
  }

  private static TaskInfo task(long taskId, int rank, String executor, String host) {
    return new TaskInfo(taskId, rank, 0, rank, 0L, executor, host, TaskLocality.PROCESS_LOCAL(), false);
  }

  private static Properties groupProperties(String group) {
    Properties p = new Properties();
    p.setProperty("spark.jobGroup.id", group);
    return p;
  }

  @SafeVarargs
  private static <T> scala.collection.immutable.Seq<T> seq(T... items) {
    return CollectionConverters.asScala(List.of(items)).toList();
  }
}
