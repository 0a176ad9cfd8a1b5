// What one rank's run adds up over its steps: the global loss of every step,
// the parameter hashes of the replica checks, the last validation loss, the
// phase times summed, and the newest checkpoint it knows of; and the
// RankResult made of them at the end. It neither times nor trains.
package org.ringtrain.driver.train;

import java.util.ArrayList;
import java.util.List;

/** The running totals of one rank's steps; single use, one thread. */
final class RankTotals {
  private final List<Double> losses = new ArrayList<>();
  private final List<Long> hashSteps = new ArrayList<>();
  private final List<Long> hashes = new ArrayList<>();
  private double valLoss = Double.NaN;
  private double computeMs;
  private double exposedMs;
  private double spanMs;
  private double checkpointMs;
  private String checkpoint;

  /**
   * Totals of a run that starts from {@code resumedFrom}: the checkpoint the parameters were
   * loaded from, or null when they were initialised.
   */
  RankTotals(String resumedFrom) {
    this.checkpoint = resumedFrom;
  }

  /** Adds a finished step: its global loss, its phase times and its gradient buckets' ring span. */
  void step(float loss, StepTimer timer, GradientBuckets buckets) {
    losses.add((double) loss);
    computeMs += timer.ms(StepTimer.Phase.COMPUTE);
    exposedMs += timer.ms(StepTimer.Phase.COMM_EXPOSED);
    spanMs += buckets.commSpanMs();
    checkpointMs += timer.ms(StepTimer.Phase.CHECKPOINT);
  }

  /** Records the replicas' common parameter hash after {@code step}. */
  void replicaHash(long step, long hash) {
    hashSteps.add(step);
    hashes.add(hash);
  }

  /** Records a validation loss (NaN when there is no validation data). */
  void validation(double loss) {
    valLoss = loss;
  }

  /** Records the checkpoint just written; it now holds the parameters. */
  void checkpoint(String path) {
    checkpoint = path;
  }

  /** The last validation loss; NaN when none ran. */
  double valLoss() {
    return valLoss;
  }

  /** The global loss of the last step; NaN when no step ran. */
  double finalLoss() {
    return losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1);
  }

  /** The rank's result; the arguments as in {@link RankResult}. */
  RankResult result(int rank, int stageAttempt, long firstStep, long lastStep, double wallMs, long skippedSteps,
      String divergence) {
    return new RankResult(rank, stageAttempt, firstStep, lastStep,
        losses.stream().mapToDouble(Double::doubleValue).toArray(),
        hashSteps.stream().mapToLong(Long::longValue).toArray(), hashes.stream().mapToLong(Long::longValue).toArray(),
        valLoss, computeMs, exposedMs, spanMs, checkpointMs, wallMs, checkpoint, skippedSteps, divergence);
  }
}
