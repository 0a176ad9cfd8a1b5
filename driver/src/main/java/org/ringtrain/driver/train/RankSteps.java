// The steps of one rank's run, after RankLoop has joined the ring, chosen the
// start (initial parameters or a checkpoint) and made the model. Each step calls
// its parts in a fixed order, one line each: forward and backward with gradient
// buckets all-reduced as they become final, waiting for the ring, the global
// loss, clipping, the non-finite check and AdamW, then on schedule a replica
// check, validation and (rank 0) a checkpoint, timed by a StepTimer and added up
// in RankTotals. It does not choose where a run starts, read data or talk to Spark.
// Why over 300 lines: the step's parts share one set of buffers and the sampler's
// position; each part is a short method.
package org.ringtrain.driver.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.OptimizerSlices;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.metrics.MetricsClient;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.ops.optim.GradientClipping;
import org.ringtrain.ops.optim.Optimizer;
import org.ringtrain.ops.optim.WarmupCosineSchedule;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.sync.ReduceOp;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingException;

/**
 * The steps of one run. Each step calls its parts in a fixed order, one line each, so that a new
 * part (a sharded optimizer step, activation recomputation) is one more call rather than more
 * locals in one long method.
 */
final class RankSteps {
  private final LoopConfig cfg;
  private final ModelRecipe recipe;
  private final String tokenizerId;
  private final RingCommunicator ring;
  private final CheckpointStore store;
  private final MetricsClient metrics; // null except on rank 0
  private final FaultPlan fault;
  private final int rank;
  private final int stageAttempt;
  private final BooleanSupplier killed;
  private final int[] evalPicked;
  private final ModelRecipe.Instance instance;
  private final TrainableModel model;
  private final INDArray params; // [N], the flat parameter buffer
  private final INDArray grads; // [N], the flat gradient buffer
  private final ByteBuffer gradBytes;
  private final Optimizer optimizer;
  private final RankData data;
  private final long firstStep;
  private final double peakFlopsAllRanks;
  private final double flopsPerToken;
  private final BatchSampler sampler;
  private final int[] rowLengths; // tokens of each training row; null when every row is full
  private final int accum; // micro-batches per rank and step: globalBatch / (worldSize x microBatch)
  private final int[] picked;
  private int[] stepRows; // the global batch of the current step
  private long pickedHash; // BatchSampler.hash of this rank's rows of the current step
  private final WarmupCosineSchedule schedule;
  private final RankTotals totals;
  private final NonFiniteGuard guard;
  private final ShardedOptimizerStep sharded; // null unless optimizerSharding
  private final EarlyStopping early; // null unless earlyStoppingPatience > 0
  private boolean stoppedEarly;

  RankSteps(RankContext ctx, ModelRecipe.Instance instance, Optimizer optimizer, OptimizerSlices slices,
      RankData data, RankLoop.Start start, double peakFlopsAllRanks) {
    this.cfg = ctx.cfg();
    this.recipe = ctx.recipe();
    this.tokenizerId = ctx.tokenizerId();
    this.ring = ctx.ring();
    this.store = ctx.store();
    this.metrics = ctx.metrics();
    this.fault = ctx.fault();
    this.rank = ring.rank();
    this.stageAttempt = ctx.stageAttempt();
    this.killed = ctx.killed();
    this.evalPicked = new int[cfg.microBatch()];
    this.instance = instance;
    this.model = instance.model();
    this.params = model.params().flat();
    this.grads = model.grads().flat();
    this.gradBytes = model.grads().asByteBuffer();
    this.optimizer = optimizer;
    this.data = data;
    this.firstStep = start.step();
    this.peakFlopsAllRanks = peakFlopsAllRanks;
    this.flopsPerToken = recipe.flopsPerToken();
    this.rowLengths = recipe.rowLengths(data.train());
    this.sampler = new BatchSampler(data.train().length, Math.toIntExact(start.globalBatch()), cfg.seed(),
        cfg.shuffle(), start.epoch(), start.cursor(), rowLengths, cfg.groupByLength());
    this.accum = BatchSampler.accumSteps(start.globalBatch(), ring.worldSize(), cfg.microBatch());
    this.picked = new int[cfg.microBatch()];
    this.schedule = new WarmupCosineSchedule(cfg.optimizer().learningRate(), cfg.optimizer().minLearningRate(), cfg.optimizer().warmupSteps(),
        cfg.steps());
    this.totals = new RankTotals(rank == 0 ? start.checkpoint() : null);
    this.guard = new NonFiniteGuard(cfg.divergence());
    this.sharded = cfg.optimizer().optimizerSharding() ? new ShardedOptimizerStep(ring, optimizer, slices) : null;
    this.early = cfg.earlyStoppingPatience() > 0 ? new EarlyStopping(cfg.earlyStoppingPatience()) : null;
  }

  RankResult train(long startNanos) throws Exception {
    try (ShardedOptimizerStep closing = sharded; EarlyStopping closingEarly = early) {
      return trainSteps(startNanos);
    }
  }

  private RankResult trainSteps(long startNanos) throws Exception {
    for (long step = firstStep; step < cfg.steps(); step++) {
      stopIfKilled(step);
      String divergence = runStep(step);
      if (divergence != null) {
        report(MetricsEvent.of("diverged").with("step", step + 1).with("message", divergence));
        return totals.result(rank, stageAttempt, firstStep, step, wallMs(startNanos), guard.skipped(), divergence);
      }
      if (stoppedEarly) {
        report(MetricsEvent.of("done").with("step", step + 1).with("loss", totals.finalLoss())
            .with("val_loss", totals.valLoss()).with("skipped_steps", guard.skipped()));
        return totals.result(rank, stageAttempt, firstStep, step + 1, wallMs(startNanos), guard.skipped(), null);
      }
    }
    report(MetricsEvent.of("done").with("step", cfg.steps()).with("loss", totals.finalLoss())
        .with("val_loss", totals.valLoss()).with("skipped_steps", guard.skipped()));
    return totals.result(rank, stageAttempt, firstStep, cfg.steps(), wallMs(startNanos), guard.skipped(), null);
  }

  /**
   * Step {@code step} (0-based): it ends with {@code step + 1} steps done. Returns null, or why
   * the run stops here without this step's update (every rank returns the same).
   */
  private String runStep(long step) throws Exception {
    StepTimer timer = new StepTimer();
    double lr = schedule.lr(step);
    GradientBuckets buckets = new GradientBuckets(ring, gradBytes, model.layout().totalElements(),
        (long) cfg.ring().bucketMb() << 20, sharded != null);
    double lossSum = forwardBackward(step, buckets, timer);
    syncGradients(buckets, timer);
    // The loss is reduced before the update, so that every rank decides on the same loss and norm;
    // it travels with the rows' hash (one round trip for both).
    float[] lossSums = {(float) (lossSum / accum)};
    long samplesHash = ReplicaChecks.agreeOnSamples(ring, pickedHash, BatchSampler.hash(stepRows), step + 1, lossSums);
    float loss = lossSums[0] / ring.worldSize(); // the ranks' mean, as ReduceOp.AVERAGE computes it
    double gradNorm = clip(step, buckets);
    long done = step + 1;
    NonFiniteGuard.Verdict verdict = guard.check(loss, gradNorm);
    if (verdict == NonFiniteGuard.Verdict.STOP) {
      return nonFiniteStop(done, loss, gradNorm, lossSum);
    }
    if (verdict == NonFiniteGuard.Verdict.UPDATE && sharded != null) {
      sharded.update(buckets, params, model.params().asByteBuffer(), grads, lr);
    } else if (verdict == NonFiniteGuard.Verdict.UPDATE) {
      optimizer.step(params, grads, lr);
    }
    boolean last = done == cfg.steps();
    String badParams = checkParamsBeforeCheckpoint(done, last);
    if (badParams != null) {
      return badParams;
    }
    maybeCheckReplicas(done, last);
    stoppedEarly = maybeEvaluate(done, last);
    maybeCheckpoint(done, last || stoppedEarly, timer);
    totals.step(loss, timer, buckets);
    MetricsEvent event = stepEvent(done, loss, lr, gradNorm, timer, buckets)
        .with("samples_hash", Long.toHexString(samplesHash));
    report(verdict == NonFiniteGuard.Verdict.SKIP
        ? event.with("skipped", true).with("skipped_steps", guard.skipped()).with("nonfinite",
            NonFiniteGuard.nonFiniteValues(loss, gradNorm))
        : event);
    return null;
  }

  /** Ends the rank before step {@code step} when Spark killed its task (the stage was cancelled or failed). */
  private void stopIfKilled(long step) {
    if (killed.getAsBoolean()) {
      throw new CancellationException("rank " + rank + " stops before step " + (step + 1)
          + ": its task was killed (stage attempt " + stageAttempt + " cancelled or failed elsewhere)");
    }
  }

  /**
   * Why the run stops at step {@code done}: the values, and which ranks' own losses were
   * non-finite, found with one more all-reduce that every rank makes, since every rank took the
   * same decision.
   */
  private String nonFiniteStop(long done, float loss, double gradNorm, double lossSum) throws RingException {
    float[] bad = new float[ring.worldSize()];
    bad[rank] = Double.isFinite(lossSum) ? 0f : 1f;
    ring.allReduce(bad, ReduceOp.SUM);
    StringBuilder ranks = new StringBuilder();
    for (int r = 0; r < bad.length; r++) {
      if (bad[r] != 0f) {
        ranks.append(ranks.length() == 0 ? "" : ", ").append(r);
      }
    }
    String where = ranks.length() > 0 ? "the local loss was non-finite on rank(s) " + ranks
        : "every rank's local loss was finite, so a rank's gradients (all-reduced) went non-finite";
    String skips = guard.consecutive() > 0 ? " after " + guard.consecutive() + " consecutive skipped step(s)"
        + " (maxSkippedSteps=" + cfg.divergence().maxSkippedSteps() + ")" : "";
    return "step " + done + " of " + cfg.steps() + " has a non-finite " + NonFiniteGuard.nonFiniteValues(loss, gradNorm)
        + "; " + where + skips + "; the run stopped before that step's update";
  }

  /**
   * Before a checkpoint is due, every rank scans its parameters (bitwise the same on every rank,
   * so all agree): a finite gradient can still overflow them. Returns null, or why the run stops.
   */
  private String checkParamsBeforeCheckpoint(long done, boolean last) {
    if (!due(done, cfg.checkpoints().checkpointEvery(), last)) {
      return null;
    }
    long bad = NonFiniteGuard.firstNonFinite(model.params().asByteBuffer(), model.layout().totalElements());
    return bad < 0 ? null : "the parameters after step " + done + " of " + cfg.steps() + " are non-finite (element "
        + bad + " is " + params.getFloat(bad) + ") on every rank; the run stopped without writing their checkpoint";
  }

  /**
   * The global row indices of this rank's micro-batch {@code micro} of the step (a new global
   * batch at micro-batch 0), added to the step's hash.
   */
  private int[] nextBatch(int micro) {
    if (micro == 0) {
      stepRows = sampler.nextStep();
      pickedHash = 0;
    }
    BatchSampler.slice(stepRows, micro, rank, ring.worldSize(), cfg.microBatch(), picked);
    pickedHash += BatchSampler.hash(picked);
    return picked;
  }

  /** Zeroes the gradients, then forward and backward of every micro-batch; returns their summed loss. */
  @SuppressWarnings("try") // the lap is only closed, never read
  private double forwardBackward(long step, GradientBuckets buckets, StepTimer timer) {
    try (StepTimer.Lap lap = timer.time(StepTimer.Phase.COMPUTE)) {
      model.zeroGrad();
      double lossSum = 0;
      for (int micro = 0; micro < accum; micro++) {
        lossSum += instance.forwardTraining(data.train(), nextBatch(micro), step);
        if (micro == accum - 1) {
          model.backward(buckets::ready); // buckets go to the ring while backward continues
        } else {
          model.backward(); // accumulate locally; only the last micro-batch is reduced
        }
      }
      return lossSum;
    }
  }

  /** Waits until the ring has averaged every gradient bucket across the ranks. */
  @SuppressWarnings("try") // the lap is only closed, never read
  private void syncGradients(GradientBuckets buckets, StepTimer timer) throws RingException {
    try (StepTimer.Lap lap = timer.time(StepTimer.Phase.COMM_EXPOSED)) {
      buckets.finish(); // what the overlap did not hide
    }
  }

  /**
   * Averages the gradients over the micro-batches and clips them to the global norm (identically
   * on every rank); returns the global norm before clipping.
   */
  private double clip(long step, GradientBuckets buckets) throws IOException {
    double gradNorm;
    if (sharded != null) {
      gradNorm = sharded.averageAndClip(buckets, grads, accum, cfg.optimizer().gradClip());
    } else {
      if (accum > 1) {
        grads.muli(1.0 / accum);
      }
      gradNorm = cfg.optimizer().gradClip() > 0 ? GradientClipping.clipGlobalNorm(grads, cfg.optimizer().gradClip())
          : GradientClipping.globalNorm(grads);
    }
    if (fault.firesAt(step, rank, stageAttempt)) {
      throw new IllegalStateException("injected failure on rank " + rank + " at step " + step
          + " (FaultPlan, first stage attempt only)");
    }
    return gradNorm;
  }

  private void maybeCheckReplicas(long done, boolean last) throws RingException {
    if (due(done, cfg.checkReplicasEvery(), last)) {
      totals.replicaHash(done, ReplicaChecks.parameterHash(ring, model.params().asByteBuffer(), done));
    }
  }

  /**
   * Validates when due; with early stopping, returns whether the run stops after this step, and
   * when it stops or ends puts back the parameters of the best validation pass (before the last
   * checkpoint is written, so that checkpoint holds them).
   */
  private boolean maybeEvaluate(long done, boolean last) throws RingException {
    if (!due(done, cfg.evalEvery(), last)) {
      return false;
    }
    double valLoss = evaluate(instance, data.validation());
    totals.validation(valLoss);
    if (!Double.isNaN(valLoss)) {
      report(MetricsEvent.of("eval").with("step", done).with("val_loss", valLoss)
          .with("perplexity", Math.exp(valLoss)));
    }
    if (early == null) {
      return false;
    }
    boolean stop = early.record(done, valLoss, params) && !last;
    if (stop || last) {
      long bestStep = early.restoreBest(params);
      report(MetricsEvent.of("early_stopping").with("step", done).with("stopped", stop)
          .with("best_step", bestStep).with("best_val_loss", early.bestLoss()));
    }
    return stop;
  }

  /**
   * Rank 0 writes a checkpoint every checkpointEvery steps and after the last one; with a sharded
   * optimizer every rank writes its optimizer slice.
   */
  @SuppressWarnings("try") // the lap is only closed, never read
  private void maybeCheckpoint(long done, boolean last, StepTimer timer) throws IOException {
    if (rank != 0 && sharded == null || !due(done, cfg.checkpoints().checkpointEvery(), last)) {
      return;
    }
    String path;
    try (StepTimer.Lap lap = timer.time(StepTimer.Phase.CHECKPOINT)) {
      TrainingState state = new TrainingState(done, sampler.epoch(), sampler.position(), cfg.seed(),
          recipe.configJson(), tokenizerId, sampler.globalBatch());
      path = sharded != null ? sharded.checkpoint(store, state, model.layout(), params)
          : store.write(state, model.layout(), params, optimizer);
    }
    if (rank != 0) {
      return;
    }
    totals.checkpoint(path);
    report(MetricsEvent.of("checkpoint").with("step", done).with("path", path));
  }

  /** The step's metrics line, timed up to now; MFU only where a peak is known (rank 0). */
  private MetricsEvent stepEvent(long done, float loss, double lr, double gradNorm, StepTimer timer,
      GradientBuckets buckets) {
    double stepMs = timer.elapsedMs();
    double tokensPerSecond = (double) sampler.globalBatch() * recipe.tokensPerRow() / (stepMs / 1000.0);
    MetricsEvent event = MetricsEvent.of("step").with("step", done).with("total_steps", cfg.steps())
        .with("loss", loss).with("lr", lr).with("grad_norm", gradNorm).with("step_ms", stepMs)
        .with("compute_ms", timer.ms(StepTimer.Phase.COMPUTE))
        .with("comm_exposed_ms", timer.ms(StepTimer.Phase.COMM_EXPOSED))
        .with("comm_span_ms", buckets.commSpanMs()).with("buckets", buckets.buckets())
        .with("tokens_per_s", tokensPerSecond).with("epoch", sampler.epoch());
    if (rowLengths != null) { // rows of different lengths: what the step computed, padding included
      event = event.with("tokens", BatchSampler.tokens(stepRows, rowLengths))
          .with("positions", BatchSampler.positions(stepRows, rowLengths, cfg.microBatch()));
    }
    return peakFlopsAllRanks > 0
        ? event.with("mfu", tokensPerSecond * flopsPerToken / peakFlopsAllRanks)
        : event;
  }

  private static double wallMs(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e6;
  }

  /** Whether a periodic check runs after {@code done} steps: every {@code every} steps (0 = never) and at the end. */
  private static boolean due(long done, long every, boolean last) {
    return last || every > 0 && done % every == 0;
  }

  /** Mean validation loss over all ranks (sums and counts all-reduced); NaN when there is no validation data. */
  private double evaluate(ModelRecipe.Instance instance, int[][] validation) throws RingException {
    if (validation.length == 0) {
      return Double.NaN;
    }
    int b = cfg.microBatch();
    double sum = 0;
    for (int batch = 0; batch < cfg.evalBatches(); batch++) {
      for (int i = 0; i < b; i++) {
        evalPicked[i] = (batch * b + i) % validation.length;
      }
      sum += instance.forward(validation, evalPicked);
    }
    float[] totals = {(float) sum, cfg.evalBatches()};
    ring.allReduce(totals, ReduceOp.SUM);
    return totals[0] / totals[1];
  }

  private void report(MetricsEvent event) {
    if (metrics != null) {
      metrics.send(event);
    }
  }
}
