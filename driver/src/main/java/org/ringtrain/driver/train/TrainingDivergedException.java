// The failure of a run whose loss, gradient norm or parameters went NaN or
// infinite (onNonFinite: stop, or too many skipped steps in a row). The ranks
// stop together before the bad update and end their tasks normally, so Spark
// does not retry the stage - a retry would only reproduce the divergence - and
// the driver throws this instead. It holds no checkpoint logic.
package org.ringtrain.driver.train;

import java.util.List;

/**
 * Thrown by {@link DataParallelTrainer#fit} when training diverged. The checkpoints on disk are
 * those written before the divergence; none holds non-finite parameters.
 */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long step;

  TrainingDivergedException(String message, long step) {
    super(message);
    this.step = step;
  }

  /**
   * The step (1-based, as in the metrics) at which the run stopped: the step whose update was not
   * applied, or, when the parameters themselves went non-finite, the step after which they did.
   */
  public long step() {
    return step;
  }

  /**
   * Throws when the ranks stopped for non-finite values; they all stop at the same step for the
   * same reason, so rank 0's account is the run's.
   *
   * @param newestCheckpoint the newest checkpoint on disk, named in the message (null: none)
   */
  static void throwIfDiverged(List<RankResult> results, String newestCheckpoint) {
    for (RankResult r : results) {
      if (r.divergence() != null) {
        throw new TrainingDivergedException("training diverged: " + r.divergence() + ". The newest checkpoint, "
            + (newestCheckpoint == null ? "none" : newestCheckpoint) + ", holds finite parameters from before it."
            + " To go on: lower learningRate, set gradClip, check the data, or set onNonFinite: skip"
            + " (with maxSkippedSteps) to step over isolated bad batches", r.lastStep() + 1);
      }
    }
  }
}
