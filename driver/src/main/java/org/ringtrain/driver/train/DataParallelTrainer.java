// The driver side of data-parallel training, for any model a ModelRecipe
// describes: checks everything that can be checked before Spark does any work,
// starts the metrics channel, runs ONE barrier stage with a task per rank, and
// reports. Every rank gets every training row (one Spark broadcast, so that each
// rank can take its slice of any global batch) and its own partition of the
// validation rows. Spark retries a failed barrier stage; every rank of the new attempt
// resumes from the newest valid checkpoint. A run that diverged is not retried:
// its ranks return normally and fit throws TrainingDivergedException. A stage that
// fails for good (every attempt, or a retry that cannot place its ranks because a host
// never came back: TrainingStageWatch) ends in TrainingStageFailedException. GptTrainer
// and the text classifier are thin fronts over it.
package org.ringtrain.driver.train;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.ringtrain.driver.checkpoint.CheckpointLease;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.metrics.LossCurvePlot;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.driver.metrics.MetricsLog;
import org.ringtrain.driver.metrics.MetricsServer;
import org.ringtrain.driver.metrics.MetricsSink;
import org.ringtrain.driver.metrics.ProgressReporter;
import org.ringtrain.driver.metrics.TensorBoardWriter;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.sync.RingSecret;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.reflect.ClassTag$;

/**
 * Trains a model data-parallel on Spark. {@code new DataParallelTrainer(config).fit(sc, recipe,
 * train, validation, tokenizerId)} runs the whole training as one barrier stage and returns a
 * {@link TrainingResult}; the weights are in its {@link TrainingResult#finalCheckpoint()}, this
 * run's own, which {@link TrainingResult#loadFinalCheckpoint} reads.
 */
public final class DataParallelTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(DataParallelTrainer.class);
  /** How long fit waits, once the ranks are done, for rank 0's last metrics events to be read. */
  private static final Duration METRICS_DRAIN = Duration.ofSeconds(30);

  private final LoopConfig config;
  private final FaultPlan fault;
  private final List<MetricsSink> sinks;

  /** A trainer for {@code config}. */
  public DataParallelTrainer(LoopConfig config) {
    this(config, FaultPlan.NONE, List.of());
  }

  private DataParallelTrainer(LoopConfig config, FaultPlan fault, List<MetricsSink> sinks) {
    this.config = config;
    this.fault = fault;
    this.sinks = List.copyOf(sinks);
  }

  /** The configuration this trainer runs. */
  public LoopConfig config() {
    return config;
  }

  /** This trainer with a deliberate failure of {@code rank} at {@code step} on the first attempt (drills, tests). */
  public DataParallelTrainer withFault(long step, int rank) {
    return new DataParallelTrainer(config, new FaultPlan(step, rank), sinks);
  }

  /**
   * This trainer also delivering every metrics event to {@code sink} on the driver, as it arrives
   * during training (besides the progress line and the JSON-lines log, which are always on).
   */
  public DataParallelTrainer withMetricsSink(MetricsSink sink) {
    List<MetricsSink> more = new ArrayList<>(sinks);
    more.add(sink);
    return new DataParallelTrainer(config, fault, more);
  }

  /**
   * Trains the model of {@code recipe} on rows of one fixed width (what a row holds is the recipe's
   * business: a GPT window of T+1 token ids, a classifier's tokens and label).
   *
   * @param train       the training rows, any number of partitions; a row's global index (what
   *                    the data order and the model's forward see) is its position in
   *                    {@code train.collect()}. Every rank receives all of them (a broadcast:
   *                    4 bytes per token per executor, see docs/memory.md)
   * @param validation  exactly worldSize partitions, partition r validated by rank r (may be empty)
   * @param tokenizerId written into every checkpoint, so that a model is never read with another
   *                    tokenizer or vocabulary
   * @throws TrainingDivergedException when the loss, gradient norm or parameters went non-finite
   *                                   and {@link DivergenceSettings} says stop
   * @throws TrainingStageFailedException when the training stage failed in every attempt
   *                                      spark.stage.maxConsecutiveAttempts allows, or a retry could
   *                                      not place its ranks for that long (a host that never came
   *                                      back): the message names the hosts and the attempts
   */
  public TrainingResult fit(JavaSparkContext sc, ModelRecipe recipe, JavaRDD<int[]> train,
      JavaRDD<int[]> validation, String tokenizerId) throws IOException {
    HadoopSettings hadoop = HadoopSettings.of(sc);
    Optional<TrainingState> resumeFrom = checkBeforeStart(sc, train, validation, hadoop, tokenizerId);
    resumeFrom.ifPresent(recipe::checkResume);
    String runId = UUID.randomUUID().toString();
    // The directory is this fit's until it returns: a second run (or a leftover task of a failed
    // attempt of another fit) would delete its temporary directories and resume from its checkpoints.
    try (CheckpointLease lease = CheckpointLease.acquire(hadoop, config.checkpoints().checkpointDir(), runId,
        config.checkpoints().leaseTimeout())) {
      return fitHoldingLease(sc, recipe, train, validation, tokenizerId, hadoop, resumeFrom, runId);
    }
  }

  private TrainingResult fitHoldingLease(JavaSparkContext sc, ModelRecipe recipe, JavaRDD<int[]> train,
      JavaRDD<int[]> validation, String tokenizerId, HadoopSettings hadoop, Optional<TrainingState> resumeFrom,
      String runId) throws IOException {
    ParameterLayout layout = recipe.layout();
    LOG.info("training {} ({} parameters) on {} ranks, run {}: {}", layout.kind(), layout.totalElements(),
        config.worldSize(), runId, config);

    RingSecret secret = RingSecret.generate();
    SparkConf conf = sc.getConf();
    String host = conf.get("spark.driver.host", "127.0.0.1");
    String bind = conf.get("spark.driver.bindAddress", host);
    List<MetricsEvent> events = Collections.synchronizedList(new ArrayList<>());
    ProgressReporter progress = new ProgressReporter(Math.max(1, config.steps() / 100));
    TrainingResult result; // MFU arrives in rank 0's step events (peak configured or measured there)
    try (MetricsServer metrics = new MetricsServer(bind, secret);
         MetricsLog log = new MetricsLog(config.resolvedMetricsLog(), hadoop);
         TensorBoardWriter tensorboard = new TensorBoardWriter(config.resolvedTensorboardDir(), hadoop)) {
      metrics.addSink(events::add).addSink(progress).addSink(log).addSink(tensorboard);
      sinks.forEach(metrics::addSink);
      String group = "ringtrain-train-" + runId;
      TrainingStageWatch watch = new TrainingStageWatch(group, config.worldSize(),
          conf.getInt("spark.stage.maxConsecutiveAttempts", 4), Duration.ofSeconds(config.ring().ringTimeoutSeconds()),
          metrics::publish, reason -> sc.cancelJobGroup(group, reason), System::nanoTime);
      metrics.addSink(new SparkUiProgress(sc, group, config.steps()));
      // Before the training job group: the group's jobs are the barrier stage and its retries.
      Broadcast<int[][]> trainRows = sc.broadcast(allTrainingRows(sc, train, resumeFrom));
      sc.setJobGroup(group, jobDescription(resumeFrom), true);
      sc.setCallSite("ringtrain train");
      sc.sc().addSparkListener(watch);
      try (TrainingStageWatch running = watch.start()) {
        RankTask task = new RankTask(config, recipe, tokenizerId, runId, secret, host, metrics.port(),
            hadoop, fault, trainRows);
        List<RankResult> results = runStage(task, validation, running, hadoop);
        if (!metrics.awaitDrained(METRICS_DRAIN)) {
          LOG.warn("rank 0's metrics channel did not close within {} s of the ranks' end; the last metrics events"
              + " of the run may be missing from the log", METRICS_DRAIN.toSeconds());
        }
        List<String> checkpoints = store(config, hadoop).list();
        // Diverged ranks end their tasks normally, so that Spark does not retry what would diverge again.
        TrainingDivergedException.throwIfDiverged(results, checkpoints.isEmpty() ? null
            : checkpoints.get(checkpoints.size() - 1));
        result = new TrainingResult(config, results, checkpoints, new ArrayList<>(events));
      } finally {
        trainRows.destroy();
        sc.sc().removeSparkListener(watch);
        sc.clearJobGroup();
        sc.clearCallSite();
      }
    }
    writeLossCurve(hadoop); // after the log is closed, so the whole run is on disk
    return result;
  }

  /**
   * The Spark UI's description of the training job. Spark reads it when the job is submitted and
   * offers no way to change it while the job runs, so it says what is known then: the steps ahead
   * and where the run resumes from. Progress while it runs: {@link SparkUiProgress}.
   */
  private String jobDescription(Optional<TrainingState> resumeFrom) {
    String ranks = " on " + config.worldSize() + " ranks";
    if (resumeFrom.isPresent()) {
      long step = resumeFrom.get().step();
      return "ringtrain train: steps " + (step + 1) + "-" + config.steps() + " of " + config.steps() + ranks
          + ", resuming from step " + step;
    }
    return "ringtrain train: " + config.steps() + " steps" + ranks;
  }

  /** The loss curve PNG next to the checkpoints; a failed picture never fails a run. */
  private void writeLossCurve(HadoopSettings hadoop) {
    String output = config.checkpoints().checkpointDir().replaceAll("/+$", "") + "/loss.png";
    try {
      LossCurvePlot.write(config.resolvedMetricsLog(), output, "ringtrain " + config.checkpoints().checkpointDir(),
          LossCurvePlot.DEFAULT_WIDTH, LossCurvePlot.DEFAULT_HEIGHT, hadoop);
      LOG.info("loss curve written to {}", output);
    } catch (IOException | IllegalArgumentException e) {
      LOG.warn("could not draw the loss curve {}: {}", output, e.getMessage());
    }
  }

  /**
   * Runs the barrier stage (a task per rank) and collects the ranks' results. Spark retries a
   * failed barrier stage only when it is a shuffle-map stage (a failed barrier ResultStage is
   * aborted), so the results go through a one-partition shuffle.
   *
   * @throws TrainingStageFailedException when every attempt failed or a retry could not place its
   *                                      ranks (the watch gave up): names the attempts and hosts;
   *                                      any other failure is Spark's exception, unchanged
   */
  private List<RankResult> runStage(RankTask task, JavaRDD<int[]> validation, TrainingStageWatch watch,
      HadoopSettings hadoop) throws IOException {
    JavaRDD<int[][]> perRank = validation.mapPartitions(v -> List.<int[][]>of(toArray(v)).iterator());
    try {
      return JavaRDD.fromRDD(perRank.rdd().barrier().mapPartitions(task, false,
          ClassTag$.MODULE$.apply(RankResult.class)), ClassTag$.MODULE$.apply(RankResult.class)).repartition(1)
          .collect();
    } catch (Exception e) { // a SparkException, which javac cannot name here
      if (!endedTheStage(watch, e)) { // not the training stage's end: cancelled, or an earlier stage failed
        throw DataParallelTrainer.<RuntimeException>rethrow(e);
      }
      List<String> checkpoints = store(config, hadoop).list();
      throw watch.failure(e, checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1));
    }
  }

  /** The run's checkpoint store, keeping as many checkpoints as the config says. */
  private static CheckpointStore store(LoopConfig config, HadoopSettings hadoop) {
    return new CheckpointStore(hadoop, config.checkpoints().checkpointDir(), config.checkpoints().keepCheckpoints());
  }

  private static boolean endedTheStage(TrainingStageWatch watch, Exception e) {
    try {
      return watch.endedTheStage(e);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      return watch.exhausted();
    }
  }

  /** Throws Spark's own (checked) exception as it is, as fit always has for failures the watch did not see. */
  @SuppressWarnings("unchecked")
  private static <T extends Exception> RuntimeException rethrow(Exception e) throws T {
    throw (T) e;
  }

  /**
   * The checks before any Spark work; returns the newest checkpoint's state when the run resumes
   * from one. A checkpoint written at another world size resumes when this run's worldSize x
   * microBatch divides its global batch (gradAccumSteps makes up the rest).
   */
  private Optional<TrainingState> checkBeforeStart(JavaSparkContext sc, JavaRDD<int[]> train,
      JavaRDD<int[]> validation, HadoopSettings hadoop, String tokenizerId) throws IOException {
    int n = config.worldSize();
    if (validation.getNumPartitions() != n) {
      throw new IllegalArgumentException("training needs exactly worldSize=" + n + " partitions of validation data"
          + " (one per rank), but found " + validation.getNumPartitions() + "; repartition the validation rows");
    }
    int slots = concurrentSlots(sc, n);
    BarrierPreconditions.check(sc.getConf(), n, slots).forEach(w -> LOG.warn("barrier stage: {}", w));
    checkCheckpointDir(config, hadoop);
    if (!config.checkpoints().resume()) {
      return Optional.empty();
    }
    Optional<TrainingState> state = new CheckpointStore(hadoop, config.checkpoints().checkpointDir()).latestState();
    if (state.isPresent() && !state.get().tokenizerId().equals(tokenizerId)) {
      throw new IllegalArgumentException("cannot resume: the checkpoints in " + config.checkpoints().checkpointDir()
          + " were trained with tokenizer '" + state.get().tokenizerId() + "' but this run uses '" + tokenizerId
          + "'; token ids would mean other tokens. Resume with the same tokenizer (and, for a classifier, the same"
          + " training data, so that the vocabulary is the same), or start in an empty directory");
    }
    if (state.isPresent()) {
      int accum = resumeGradAccumSteps(config, state.get());
      if (accum != config.gradAccumSteps()) {
        LOG.info("resuming step {} at worldSize={}: gradAccumSteps={} keeps the checkpoint's global batch of {} rows"
            + " (the configured gradAccumSteps={} applies to new runs only)", state.get().step(), n, accum,
            state.get().globalBatch(), config.gradAccumSteps());
      }
    }
    return state;
  }

  /**
   * The micro-batches per rank and step with which {@code config} resumes from {@code state}:
   * the checkpoint's global batch kept at {@code worldSize} ranks of {@code microBatch} rows, or
   * the configured gradAccumSteps for a checkpoint written without a global batch. Needs no Spark,
   * so a job can check it before Spark starts.
   *
   * @throws IllegalArgumentException when worldSize x microBatch does not divide the global batch,
   *                                  naming both and what to choose instead
   */
  public static int resumeGradAccumSteps(LoopConfig config, TrainingState state) {
    return state.globalBatch() > 0 ? BatchSampler.accumSteps(state.globalBatch(), config.worldSize(),
        config.microBatch()) : config.gradAccumSteps();
  }

  /**
   * Every training row, in the order of {@code train}'s partitions (a row's index here is its
   * global index), checked against the rows one step needs.
   */
  private int[][] allTrainingRows(JavaSparkContext sc, JavaRDD<int[]> train, Optional<TrainingState> resumeFrom) {
    sc.setJobDescription("ringtrain train: collecting the training rows for every rank");
    int[][] rows;
    try {
      rows = train.collect().toArray(new int[0][]);
    } finally {
      sc.setJobDescription(null);
    }
    long globalBatch = resumeFrom.map(TrainingState::globalBatch).filter(g -> g > 0).orElse(config.rowsPerStep());
    if (rows.length < globalBatch) {
      throw new IllegalArgumentException("the training data holds " + rows.length + " rows but one step needs a global"
          + " batch of " + globalBatch + " (worldSize x microBatch x gradAccumSteps"
          + (resumeFrom.isPresent() ? " of the run that wrote the checkpoint" : "") + "); use a larger corpus, or"
          + " a smaller microBatch, gradAccumSteps or worldSize for a new run");
    }
    return rows;
  }

  /**
   * Task slots the cluster offers now, counted as Spark's own barrier check counts them (free or
   * busy cores of registered executors / spark.task.cpus; spark.default.parallelism does not
   * matter). The context waits for spark.scheduler.minRegisteredResourcesRatio of the executors
   * when it starts; executors still registering after that get up to 10 s (or
   * spark.scheduler.maxRegisteredResourcesWaitingTime, if shorter) to bring the count up to
   * {@code wanted}, so a short cluster still fails within seconds.
   */
  private static int concurrentSlots(JavaSparkContext sc, int wanted) {
    org.apache.spark.SparkContext ctx = sc.sc();
    long waitMs = Math.min(10_000L,
        ctx.getConf().getTimeAsMs("spark.scheduler.maxRegisteredResourcesWaitingTime", "30s"));
    long deadline = System.nanoTime() + waitMs * 1_000_000L;
    while (true) {
      int slots = ctx.maxNumConcurrentTasks(ctx.resourceProfileManager().defaultResourceProfile());
      if (slots >= wanted || sc.isLocal() || System.nanoTime() > deadline) {
        return slots;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return slots;
      }
    }
  }

  /**
   * The run's checkpoint directory can be written, is not leased by a running fit, and, unless
   * {@code resume} is set, holds no checkpoint of an earlier run (which a fresh run would otherwise
   * mix with its own). Callable before any Spark work, as the jobs' pre-flight checks do.
   *
   * @throws IllegalArgumentException for an earlier run's checkpoints without resume, a path that
   *                                  is a file, or a directory leased by another run (named)
   * @throws IOException              when the directory cannot be created or written
   */
  public static void checkCheckpointDir(LoopConfig config, HadoopSettings hadoop) throws IOException {
    CheckpointStore store = store(config, hadoop);
    store.checkWritable();
    CheckpointLease.checkFree(hadoop, config.checkpoints().checkpointDir(), config.checkpoints().leaseTimeout());
    int earlier = config.checkpoints().resume() ? 0 : store.list().size();
    if (earlier > 0) {
      throw new IllegalArgumentException("checkpointDir " + config.checkpoints().checkpointDir() + " already holds "
          + earlier + " checkpoint(s) of an earlier run; pass --resume to continue it, or choose an empty directory");
    }
  }

  private static int[][] toArray(java.util.Iterator<int[]> it) {
    List<int[]> all = new ArrayList<>();
    it.forEachRemaining(all::add);
    return all.toArray(new int[0][]);
  }
}
