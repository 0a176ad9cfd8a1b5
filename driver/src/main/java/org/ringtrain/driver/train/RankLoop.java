// The life of one rank inside the barrier stage: join the ring, start from
// parameters identical on every rank (or the newest valid checkpoint), then hand
// the steps to RankSteps. Every rank holds every training row and takes its
// slices of each step's global batch from BatchSampler, so the rows a step uses
// do not depend on the world size and a checkpoint resumes at any number of ranks
// that divides its global batch; a sharded checkpoint's optimizer state is read
// by each rank for the ranges it owns (OptimizerSlices). It does not read data,
// set ND4J's threads or talk to Spark; RankTask wires it in.
package org.ringtrain.driver.train;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.OptimizerSlices;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.metrics.MetricsClient;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.optim.Optimizer;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.ops.runtime.Nd4jRuntime;
import org.ringtrain.sync.RingCommunicator;

/** One rank's training loop; single use. */
final class RankLoop {
  private final RankContext ctx;
  private final LoopConfig cfg;
  private final RingCommunicator ring;

  /**
   * @param killed whether this rank's task was killed (its stage cancelled or failed elsewhere);
   *               asked before every step
   */
  RankLoop(LoopConfig cfg, ModelRecipe recipe, String tokenizerId, RingCommunicator ring,
      CheckpointStore store, MetricsClient metrics, FaultPlan fault, int stageAttempt, BooleanSupplier killed) {
    this.ctx = new RankContext(cfg, recipe, tokenizerId, ring, store, metrics, fault, stageAttempt, killed);
    this.cfg = cfg;
    this.ring = ring;
  }

  /**
   * Where a run starts: the step, the data position in the global order, the rows per step, and
   * the checkpoint loaded (null: initialised).
   */
  record Start(long step, long epoch, long cursor, long globalBatch, String checkpoint) {

    /** The start a checkpoint gives; one without a global batch continues with this run's. */
    static Start of(Checkpoint ck, LoopConfig cfg) {
      TrainingState s = ck.state();
      return s.globalBatch() > 0 ? new Start(s.step(), s.epoch(), s.cursor(), s.globalBatch(), ck.path())
          // Its cursor counts one rank's rows: the same number of ranks consumed worldSize times as many.
          : new Start(s.step(), s.epoch(), s.cursor() * cfg.worldSize(), cfg.rowsPerStep(), ck.path());
    }
  }

  /** Trains on {@code data}: every training row of the run (global row indices), this rank's validation rows. */
  RankResult run(RankData data) throws Exception {
    long startNanos = System.nanoTime();
    try (ModelRecipe.Instance instance = ctx.recipe().create(cfg.seed(), cfg.microBatch())) {
      TrainableModel model = instance.model();
      ByteBuffer paramBytes = model.params().asByteBuffer();
      int n = Math.toIntExact(model.layout().totalElements());
      // Seeded initialisation is already identical everywhere; the broadcast makes it so by
      // construction, whatever the JVM, as DDP does.
      ring.broadcast(paramBytes, 0, n, 0);

      Optimizer optimizer = new AdamW(model.layout(), AdamW.Config.defaults()
          .withLr(cfg.optimizer().learningRate()).withWeightDecay(cfg.optimizer().weightDecay()));
      Start start = new Start(0, 0, 0, cfg.rowsPerStep(), null);
      OptimizerSlices slices = null; // a sharded checkpoint's state, each rank reads its part at the first step
      Optional<Checkpoint> resumed = cfg.checkpoints().resume() || ctx.stageAttempt() > 0
          ? ctx.store().loadLatestValid(model.layout()) : Optional.empty();
      if (resumed.isPresent()) {
        Checkpoint ck = resumed.get();
        ctx.recipe().checkResume(ck.state());
        model.params().flat().assign(ck.params());
        if (ck.slices() != null && cfg.optimizer().optimizerSharding()) {
          slices = ck.slices();
        } else {
          optimizer.close();
          optimizer = ck.loadOptimizer();
        }
        start = Start.of(ck, cfg);
      }
      ReplicaChecks.agreeOnStartStep(ring, start.step());
      MetricsEvent event = MetricsEvent.of("resume").with("step", start.step()).with("attempt", ctx.stageAttempt())
          .with("global_batch", start.globalBatch()).with("grad_accum_steps",
              BatchSampler.accumSteps(start.globalBatch(), ring.worldSize(), cfg.microBatch()));
      report(resumed.isPresent() ? event.with("path", resumed.get().path()) : event);

      try (Optimizer opt = optimizer) {
        return new RankSteps(ctx, instance, opt, slices, data, start, peakFlopsAllRanks()).train(startNanos);
      }
    }
  }

  /**
   * The peak FLOP/s of all ranks that rank 0 reports model FLOPs utilisation against (the
   * recipe's FLOPs per token, 6N + 12 L C T for a GPT): the configured peak per rank, or this
   * rank's sgemm measured now, times the ranks. 0 on the other ranks, which report nothing.
   */
  private double peakFlopsAllRanks() {
    if (ctx.metrics() == null) {
      return 0;
    }
    boolean configured = cfg.metrics().peakGflopsPerRank() > 0;
    double peakGflops = configured ? cfg.metrics().peakGflopsPerRank() : Nd4jRuntime.sgemmPeakGflops();
    report(MetricsEvent.of("peak").with("peak_gflops_per_rank", peakGflops).with("source", configured
        ? "configured" : "measured sgemm " + Nd4jRuntime.PEAK_PROBE_SIZE + "x" + Nd4jRuntime.PEAK_PROBE_SIZE + "x"
        + Nd4jRuntime.PEAK_PROBE_SIZE));
    return peakGflops * 1e9 * ring.worldSize();
  }

  private void report(MetricsEvent event) {
    if (ctx.metrics() != null) {
      ctx.metrics().send(event);
    }
  }
}
