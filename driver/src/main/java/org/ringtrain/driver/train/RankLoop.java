// The life of one rank inside the barrier stage: join the ring, start from
// parameters identical on every rank (or the newest valid checkpoint), then run
// the steps: micro-batches, backward with gradient buckets all-reduced as they
// become final, clipping, AdamW, and - on schedule - validation, a cross-rank
// replica check and (rank 0) a checkpoint. It does not read data, set ND4J's
// threads or talk to Spark beyond the task context; RankTask wires it in.
package org.ringtrain.driver.train;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.metrics.MetricsClient;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.ops.model.TrainableModel;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.optim.GradientClipping;
import org.ringtrain.ops.optim.Optimizer;
import org.ringtrain.ops.optim.WarmupCosineSchedule;
import org.ringtrain.ops.runtime.Nd4jRuntime;
import org.ringtrain.sync.ReduceOp;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingException;

/** One rank's training loop; single use. */
final class RankLoop {
  private final TrainConfig cfg;
  private final ModelRecipe recipe;
  private final String tokenizerId;
  private final RingCommunicator ring;
  private final CheckpointStore store;
  private final MetricsClient metrics; // null except on rank 0
  private final FaultPlan fault;
  private final int rank;
  private final int stageAttempt;
  private final int[] evalPicked;

  RankLoop(TrainConfig cfg, ModelRecipe recipe, String tokenizerId, RingCommunicator ring,
      CheckpointStore store, MetricsClient metrics, FaultPlan fault, int stageAttempt) {
    this.cfg = cfg;
    this.recipe = recipe;
    this.tokenizerId = tokenizerId;
    this.ring = ring;
    this.store = store;
    this.metrics = metrics;
    this.fault = fault;
    this.rank = ring.rank();
    this.stageAttempt = stageAttempt;
    this.evalPicked = new int[cfg.microBatch()];
  }

  RankResult run(RankData data) throws Exception {
    long startNanos = System.nanoTime();
    try (ModelRecipe.Instance instance = recipe.create(cfg.seed(), cfg.microBatch())) {
      TrainableModel model = instance.model();
      INDArray params = model.params().flat();
      ByteBuffer paramBytes = model.params().asByteBuffer();
      int n = Math.toIntExact(model.layout().totalElements());
      // Seeded initialisation is already identical everywhere; the broadcast makes it so by
      // construction, whatever the JVM, as DDP does.
      ring.broadcast(paramBytes, 0, n, 0);

      Optimizer optimizer = new AdamW(model.layout(), AdamW.Config.defaults()
          .withLr(cfg.learningRate()).withWeightDecay(cfg.weightDecay()));
      long step = 0;
      long epoch = 0;
      long cursor = 0;
      Optional<Checkpoint> resumed = cfg.resume() || stageAttempt > 0
          ? store.loadLatestValid(model.layout()) : Optional.empty();
      if (resumed.isPresent()) {
        Checkpoint ck = resumed.get();
        params.assign(ck.params());
        optimizer.close();
        optimizer = ck.optimizer();
        step = ck.state().step();
        epoch = ck.state().epoch();
        cursor = ck.state().cursor();
      }
      agreeOnStartStep(step);
      MetricsEvent start = MetricsEvent.of("resume").with("step", step).with("attempt", stageAttempt);
      report(resumed.isPresent() ? start.with("path", resumed.get().path()) : start);

      try (Optimizer opt = optimizer) {
        return train(instance, opt, data, step, epoch, cursor, startNanos);
      }
    }
  }

  private RankResult train(ModelRecipe.Instance instance, Optimizer optimizer, RankData data, long firstStep,
      long epoch, long cursor, long startNanos) throws Exception {
    TrainableModel model = instance.model();
    INDArray params = model.params().flat();
    INDArray grads = model.grads().flat();
    ByteBuffer gradBytes = model.grads().asByteBuffer();
    long n = model.layout().totalElements();
    BatchSampler sampler = new BatchSampler(data.train().length, cfg.microBatch(), cfg.seed(), rank, cfg.shuffle(),
        epoch, cursor);
    WarmupCosineSchedule schedule = new WarmupCosineSchedule(cfg.learningRate(), cfg.minLearningRate(),
        cfg.warmupSteps(), cfg.steps());
    // Model FLOPs utilisation, reported by rank 0: the recipe's FLOPs per token (6N + 12 L C T for a
    // GPT) against the peak of all ranks (configured, or this rank's sgemm measured now, times N).
    double flopsPerToken = recipe.flopsPerToken();
    double peakGflops = metrics == null ? 0 : cfg.peakGflopsPerRank() > 0 ? cfg.peakGflopsPerRank()
        : Nd4jRuntime.sgemmPeakGflops();
    double peakFlopsAllRanks = peakGflops * 1e9 * ring.worldSize();
    if (metrics != null) {
      report(MetricsEvent.of("peak").with("peak_gflops_per_rank", peakGflops)
          .with("source", cfg.peakGflopsPerRank() > 0 ? "configured" : "measured sgemm 1024x1024x1024"));
    }
    List<Double> losses = new ArrayList<>();
    List<long[]> hashes = new ArrayList<>();
    double valLoss = Double.NaN;
    double computeMs = 0;
    double exposedMs = 0;
    double spanMs = 0;
    double checkpointMs = 0;

    for (long step = firstStep; step < cfg.steps(); step++) {
      long t0 = System.nanoTime();
      double lr = schedule.lr(step);
      model.zeroGrad();
      double lossSum = 0;
      GradientBuckets buckets = new GradientBuckets(ring, gradBytes, n, (long) cfg.bucketMb() << 20);
      for (int micro = 0; micro < cfg.gradAccumSteps(); micro++) {
        lossSum += instance.forward(data.train(), sampler.next());
        if (micro == cfg.gradAccumSteps() - 1) {
          model.backward(buckets::ready); // buckets go to the ring while backward continues
        } else {
          model.backward(); // accumulate locally; only the last micro-batch is reduced
        }
      }
      long t1 = System.nanoTime();
      buckets.finish(); // what the overlap did not hide
      long t2 = System.nanoTime();
      if (cfg.gradAccumSteps() > 1) {
        grads.muli(1.0 / cfg.gradAccumSteps());
      }
      double gradNorm = cfg.gradClip() > 0 ? GradientClipping.clipGlobalNorm(grads, cfg.gradClip())
          : GradientClipping.globalNorm(grads);
      if (fault.firesAt(step, rank, stageAttempt)) {
        throw new IllegalStateException("injected failure on rank " + rank + " at step " + step
            + " (FaultPlan, first stage attempt only)");
      }
      optimizer.step(params, grads, lr);
      float[] loss = {(float) (lossSum / cfg.gradAccumSteps())};
      ring.allReduce(loss, ReduceOp.AVERAGE);
      long done = step + 1;
      losses.add((double) loss[0]);
      computeMs += (t1 - t0) / 1e6;
      exposedMs += (t2 - t1) / 1e6;
      spanMs += buckets.commSpanMs();

      boolean last = done == cfg.steps();
      if (last || cfg.checkReplicasEvery() > 0 && done % cfg.checkReplicasEvery() == 0) {
        hashes.add(new long[] {done, checkReplicas(model.params().asByteBuffer(), done)});
      }
      if (last || cfg.evalEvery() > 0 && done % cfg.evalEvery() == 0) {
        valLoss = evaluate(instance, data.validation());
        if (!Double.isNaN(valLoss)) {
          report(MetricsEvent.of("eval").with("step", done).with("val_loss", valLoss)
              .with("perplexity", Math.exp(valLoss)));
        }
      }
      if (rank == 0 && (last || done % cfg.checkpointEvery() == 0)) {
        long c0 = System.nanoTime();
        String path = store.write(new TrainingState(done, sampler.epoch(), sampler.cursor(), cfg.seed(),
            cfg.toJson(), tokenizerId), model.layout(), params, optimizer);
        checkpointMs += (System.nanoTime() - c0) / 1e6;
        report(MetricsEvent.of("checkpoint").with("step", done).with("path", path));
      }
      double stepMs = (System.nanoTime() - t0) / 1e6;
      MetricsEvent stepEvent = MetricsEvent.of("step").with("step", done).with("total_steps", cfg.steps()).with("loss", loss[0])
          .with("lr", lr).with("grad_norm", gradNorm).with("step_ms", stepMs)
          .with("compute_ms", (t1 - t0) / 1e6).with("comm_exposed_ms", (t2 - t1) / 1e6)
          .with("comm_span_ms", buckets.commSpanMs()).with("buckets", buckets.buckets())
          .with("tokens_per_s", cfg.tokensPerStep() / (stepMs / 1000.0)).with("epoch", sampler.epoch());
      report(peakFlopsAllRanks > 0
          ? stepEvent.with("mfu", cfg.tokensPerStep() / (stepMs / 1000.0) * flopsPerToken / peakFlopsAllRanks)
          : stepEvent);
    }
    double wallMs = (System.nanoTime() - startNanos) / 1e6;
    double finalLoss = losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1);
    report(MetricsEvent.of("done").with("step", cfg.steps()).with("loss", finalLoss).with("val_loss", valLoss));
    return new RankResult(rank, stageAttempt, firstStep, cfg.steps(),
        losses.stream().mapToDouble(Double::doubleValue).toArray(),
        hashes.stream().mapToLong(h -> h[0]).toArray(), hashes.stream().mapToLong(h -> h[1]).toArray(),
        valLoss, computeMs, exposedMs, spanMs, checkpointMs, wallMs);
  }

  /** Every rank must resume from the same step; a rank that saw another checkpoint fails the stage. */
  private void agreeOnStartStep(long step) throws RingException {
    float[] mean = {step};
    ring.allReduce(mean, ReduceOp.AVERAGE);
    if (mean[0] != (float) step) {
      throw new IllegalStateException("rank " + rank + " resumes from step " + step + " but the ranks' mean is "
          + mean[0] + ": they read different checkpoints; is checkpointDir on a filesystem every executor sees?");
    }
  }

  /** CRC-32C of the parameters, compared across ranks; replicas must be bitwise equal. */
  private long checkReplicas(ByteBuffer paramBytes, long step) throws RingException {
    CRC32C crc = new CRC32C();
    crc.update(paramBytes.duplicate().clear());
    long hash = crc.getValue();
    // Two 16-bit halves are exact in float32, and so is their mean when every rank agrees.
    float[] halves = {hash >>> 16, hash & 0xFFFF};
    float[] mine = halves.clone();
    ring.allReduce(halves, ReduceOp.AVERAGE);
    if (halves[0] != mine[0] || halves[1] != mine[1]) {
      throw new IllegalStateException("parameter replicas diverged at step " + step + ": rank " + rank
          + " has CRC-32C " + Long.toHexString(hash) + " but the ranks disagree");
    }
    return hash;
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
