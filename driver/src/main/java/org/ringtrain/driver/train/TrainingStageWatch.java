// Watches the attempts of one fit's barrier training stage from Spark's listener bus: puts each
// failed attempt into the metrics stream, remembers every attempt's failure and which ranks of an
// attempt never ended (a host cut off from the driver), and gives up on a retry that cannot start
// all its ranks. Spark itself would let such a retry wait for task slots forever: a host that never
// comes back keeps its rank's task "running" on the driver's books, so the barrier stage never gets
// worldSize free slots at once. The watch turns that hang into a failure that names the host.
// It neither retries nor schedules anything itself; the trainer cancels the job when it gives up.
// Over 300 lines as one concept: the listener callbacks, the give-up check and the failure message
// read and write one piece of synchronised state (attempts, ranks, hosts), which splitting would expose.
package org.ringtrain.driver.train;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.storage.RDDInfo;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The attempts of one training stage. Register it on the SparkContext before the training job
 * starts, {@link #start()} its clock, {@link #close()} it when the job ended.
 *
 * <p>The rule for a retry that cannot start: every stage attempt gets one ring timeout. An attempt
 * that failed used one; a retry still waiting for its ranks after a ring timeout counts as one more
 * failed attempt. When the attempts reach {@code maxAttempts} (spark.stage.maxConsecutiveAttempts,
 * as Spark counts them for failed attempts), the watch gives up: a retry of attempt {@code a} may
 * wait {@code ringTimeout x (maxAttempts - a)} for all worldSize ranks to start. The wait covers what
 * legitimately holds a retry back: ranks of the failed attempt end within one step or one ring
 * timeout (their ring fails), and a Worker's replacement for a dead executor registers in seconds.
 */
final class TrainingStageWatch extends SparkListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingStageWatch.class);
  /** How much of a Spark failure reason the summary keeps per attempt. */
  private static final int REASON_CHARS = 600;
  /** Spark's words when it aborts a stage after spark.stage.maxConsecutiveAttempts failed attempts. */
  private static final String SPARK_GAVE_UP = "failed the maximum allowable number of times";
  /** How long to wait for the listener bus to deliver the attempts Spark's abort already counted. */
  private static final long CATCH_UP_MILLIS = 10_000;

  private final String jobGroup;
  private final int worldSize;
  private final int maxAttempts;
  private final long ringTimeoutNanos;
  private final Consumer<MetricsEvent> publish;
  private final Consumer<String> giveUp;
  private final LongSupplier clock;
  private ScheduledExecutorService checker;

  // Guarded by this: the listener bus and the checker thread both touch them.
  private final List<Integer> trainingStages = new ArrayList<>();
  private final Map<Long, RankTaskInfo> running = new LinkedHashMap<>();
  private final Map<String, String> executorHosts = new TreeMap<>();
  private final Map<String, String> lostExecutors = new TreeMap<>();
  private final Map<Integer, String> failures = new TreeMap<>();
  private int currentAttempt = -1;
  private long currentSubmittedNanos;
  private int startedInCurrent;
  private String gaveUp;
  private boolean sparkGaveUp;

  /** Where a rank's task of a given stage attempt runs. */
  private record RankTaskInfo(int attempt, int rank, String host, String executorId) {
  }

  /**
   * @param jobGroup    the Spark job group of the training job (its barrier stage is watched)
   * @param worldSize   ranks, hence tasks, of every attempt
   * @param maxAttempts spark.stage.maxConsecutiveAttempts of the context (Spark's default 4)
   * @param ringTimeout the run's ring timeout: the time each attempt gets
   * @param publish     where failed attempts go as {@code failure} metrics events
   * @param giveUp      called once, with the summary, when a retry cannot start; it cancels the job
   * @param clock       nanoseconds, as {@link System#nanoTime}
   */
  TrainingStageWatch(String jobGroup, int worldSize, int maxAttempts, Duration ringTimeout,
      Consumer<MetricsEvent> publish, Consumer<String> giveUp, LongSupplier clock) {
    this.jobGroup = jobGroup;
    this.worldSize = worldSize;
    this.maxAttempts = Math.max(1, maxAttempts);
    this.ringTimeoutNanos = ringTimeout.toNanos();
    this.publish = publish;
    this.giveUp = giveUp;
    this.clock = clock;
  }

  /** Starts checking, once a second, whether a waiting retry has used up its attempts. */
  TrainingStageWatch start() {
    checker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ringtrain-stage-watch");
      t.setDaemon(true);
      return t;
    });
    checker.scheduleWithFixedDelay(this::check, 1, 1, TimeUnit.SECONDS);
    return this;
  }

  @Override
  public void close() {
    if (checker != null) {
      checker.shutdownNow();
    }
  }

  @Override
  public synchronized void onJobStart(SparkListenerJobStart job) {
    if (job.properties() == null || !jobGroup.equals(job.properties().getProperty("spark.jobGroup.id"))) {
      return;
    }
    for (StageInfo stage : CollectionConverters.asJava(job.stageInfos())) {
      if (stage.numTasks() == worldSize && CollectionConverters.asJava(stage.rddInfos()).stream()
          .anyMatch(RDDInfo::isBarrier)) {
        trainingStages.add(stage.stageId());
      }
    }
  }

  @Override
  public synchronized void onStageSubmitted(SparkListenerStageSubmitted stage) {
    if (trainingStages.contains(stage.stageInfo().stageId())) {
      currentAttempt = stage.stageInfo().attemptNumber();
      currentSubmittedNanos = clock.getAsLong();
      startedInCurrent = 0;
    }
  }

  @Override
  public synchronized void onTaskStart(SparkListenerTaskStart task) {
    executorHosts.put(task.taskInfo().executorId(), task.taskInfo().host());
    if (trainingStages.contains(task.stageId())) {
      running.put(task.taskInfo().taskId(), new RankTaskInfo(task.stageAttemptId(), task.taskInfo().index(),
          task.taskInfo().host(), task.taskInfo().executorId()));
      if (task.stageAttemptId() == currentAttempt) {
        startedInCurrent++;
      }
    }
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd task) {
    running.remove(task.taskInfo().taskId());
  }

  @Override
  public synchronized void onExecutorAdded(SparkListenerExecutorAdded added) {
    executorHosts.put(added.executorId(), added.executorInfo().executorHost());
  }

  @Override
  public synchronized void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
    lostExecutors.put(removed.executorId(), removed.reason());
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted stage) {
    StageInfo info = stage.stageInfo();
    if (info.failureReason().isEmpty()) {
      return;
    }
    synchronized (this) {
      if (!trainingStages.contains(info.stageId())) {
        return;
      }
      // Spark completes a failed barrier attempt once per failed task; the first names the cause
      // (the ring's timeout on the lost rank), the later ones its neighbours closing after it.
      failures.putIfAbsent(info.attemptNumber(), firstLines(info.failureReason().get()));
    }
    // Puts failed attempts into the metrics stream, so the log shows the failure before the resume.
    publish.accept(MetricsEvent.of("failure").with("attempt", info.attemptNumber())
        .with("message", info.failureReason().get()));
  }

  /**
   * The exception fit throws once {@link #endedTheStage} said so: why (the summary the watch gave
   * up with, or every attempt's failure), the newest checkpoint and what to do.
   *
   * @param cause            Spark's exception for the job
   * @param newestCheckpoint the newest checkpoint on disk, or null for none
   */
  synchronized TrainingStageFailedException failure(Exception cause, String newestCheckpoint) {
    String what = gaveUp != null ? gaveUp : "the training stage failed in each of the " + attemptsUsed()
        + " attempts spark.stage.maxConsecutiveAttempts allows: " + String.join("; ", failures.entrySet().stream()
        .map(f -> "attempt " + f.getKey() + ": " + f.getValue()).toList());
    List<String> unreachable = unreachableHosts();
    return new TrainingStageFailedException("training failed: " + what + ". The newest checkpoint is "
        + (newestCheckpoint == null ? "none yet" : newestCheckpoint) + ". To go on: " + (unreachable.isEmpty()
        ? "fix what failed the ranks (above), then run again with resume (--resume)"
        : "bring back host(s) " + String.join(", ", unreachable) + " or give the cluster executors elsewhere, then"
        + " run again with resume (--resume), or resume with a smaller worldSize")
        + " (docs/reliability.md, \"Stage retries and a host that never comes back\")", attemptsUsed(), unreachable,
        cause);
  }

  /** Whether the stage is done for: the watch gave up, or as many attempts failed as Spark allows. */
  synchronized boolean exhausted() {
    return gaveUp != null || failures.size() >= maxAttempts;
  }

  /**
   * Whether {@code jobFailure}, the exception the training job ended with, ends the stage for good:
   * {@link #exhausted()}, or Spark's own abort after its last allowed attempt. The listener bus
   * delivers events after the job has failed, so for Spark's abort this waits up to
   * {@value #CATCH_UP_MILLIS} ms for the last attempts' failures to arrive (to list them).
   */
  boolean endedTheStage(Exception jobFailure) throws InterruptedException {
    String message = String.valueOf(jobFailure.getMessage());
    if (!message.contains(SPARK_GAVE_UP)) {
      return exhausted();
    }
    long deadline = System.nanoTime() + CATCH_UP_MILLIS * 1_000_000L;
    while (!exhausted() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    synchronized (this) {
      sparkGaveUp = true;
    }
    return true;
  }

  /**
   * Attempts that count against maxAttempts: maxAttempts when the watch gave up, else the failed ones.
   */
  synchronized int attemptsUsed() {
    return gaveUp != null || sparkGaveUp ? maxAttempts : failures.size();
  }

  /** Hosts of ranks of a failed attempt that never ended, as far as the driver knows. */
  synchronized List<String> unreachableHosts() {
    return running.values().stream().filter(r -> r.attempt() < currentAttempt).map(RankTaskInfo::host)
        .distinct().toList();
  }

  /**
   * Gives up when a retry waits for its ranks longer than its attempts allow (see the class
   * comment). The first attempt is never given up on here: Spark checks its slots when the job is
   * submitted, and it may wait for another job's tasks.
   */
  void check() {
    String message;
    synchronized (this) {
      if (gaveUp != null || currentAttempt < 1 || startedInCurrent >= worldSize) {
        return;
      }
      int attemptsLeft = Math.max(1, maxAttempts - currentAttempt);
      long waited = clock.getAsLong() - currentSubmittedNanos;
      if (waited < attemptsLeft * ringTimeoutNanos) {
        return;
      }
      gaveUp = summary(attemptsLeft, waited);
      message = gaveUp;
    }
    LOG.error("{}", message);
    publish.accept(MetricsEvent.of("failure").with("attempt", currentAttempt).with("message", message));
    giveUp.accept(message);
  }

  /** Why the retry cannot start, the ranks and hosts that hold it back, and every attempt made. */
  private String summary(int attemptsLeft, long waitedNanos) {
    StringBuilder s = new StringBuilder("attempt ").append(currentAttempt).append(" of the training stage could not")
        .append(" start its ").append(worldSize).append(" ranks: after ").append(waitedNanos / 1_000_000_000L)
        .append(" s (").append(attemptsLeft).append(" ring timeout(s) of ").append(ringTimeoutNanos / 1_000_000_000L)
        .append(" s, one for each attempt left of spark.stage.maxConsecutiveAttempts=").append(maxAttempts)
        .append(") only ").append(startedInCurrent).append(" had started. ");
    List<RankTaskInfo> stuck = running.values().stream().filter(r -> r.attempt() < currentAttempt).toList();
    if (!stuck.isEmpty()) {
      s.append("Unreachable: ");
      for (int i = 0; i < stuck.size(); i++) {
        RankTaskInfo r = stuck.get(i);
        s.append(i == 0 ? "" : ", ").append("rank ").append(r.rank()).append(" of attempt ").append(r.attempt())
            .append(" on host ").append(r.host()).append(" (executor ").append(r.executorId()).append(')');
      }
      s.append(": the driver has heard nothing from its task since that attempt failed, so its task slot stays"
          + " taken and the barrier stage cannot place every rank. ");
    }
    if (!lostExecutors.isEmpty()) {
      s.append("Executors lost: ");
      lostExecutors.forEach((id, reason) -> s.append(id).append(" on host ")
          .append(executorHosts.getOrDefault(id, "?")).append(" (").append(reason).append("); "));
    }
    s.append("Attempts made: ").append(failures.size()).append(" failed");
    failures.forEach((attempt, reason) -> s.append("; attempt ").append(attempt).append(": ").append(reason));
    return s.append("; attempt ").append(currentAttempt).append(": never started").toString();
  }

  /** A failure reason without its stack trace, at most {@value #REASON_CHARS} characters. */
  static String firstLines(String reason) {
    StringBuilder out = new StringBuilder();
    for (String line : reason.split("\n")) {
      String t = line.strip();
      if (t.startsWith("at ") || t.startsWith("...") || t.isEmpty()) {
        continue;
      }
      out.append(out.length() == 0 ? "" : " ").append(t);
      if (out.length() >= REASON_CHARS) {
        return out.substring(0, REASON_CHARS) + "...";
      }
    }
    return out.toString();
  }
}
