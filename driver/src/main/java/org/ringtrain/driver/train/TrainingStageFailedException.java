// The failure of a run whose barrier training stage could not be completed: every attempt Spark
// allows (spark.stage.maxConsecutiveAttempts) failed, or a retry could not place its ranks for as
// long as those attempts allow (a host that never came back). Its message names the ranks and
// hosts the driver lost, every attempt's failure, the newest checkpoint and what to do; Spark's own
// exception is its cause. It carries no retry logic (TrainingStageWatch decides when to give up).
package org.ringtrain.driver.train;

import java.util.List;

/**
 * Thrown by {@link DataParallelTrainer#fit} when the training stage failed for good. The
 * checkpoints on disk are intact; a run started again with {@code resume} continues from the
 * newest one once the cause (an unreachable host, a crashing rank) is fixed.
 */
public final class TrainingStageFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int attempts;
  private final List<String> unreachableHosts;

  TrainingStageFailedException(String message, int attempts, List<String> unreachableHosts, Throwable cause) {
    super(message, cause);
    this.attempts = attempts;
    this.unreachableHosts = List.copyOf(unreachableHosts);
  }

  /**
   * Attempts of the training stage that count against spark.stage.maxConsecutiveAttempts: those
   * that failed, plus, when a retry could not start, one for each ring timeout it waited.
   */
  public int attempts() {
    return attempts;
  }

  /**
   * Hosts whose ranks never reported the end of a failed attempt to the driver (cut off from it);
   * empty when every rank's failure reached the driver.
   */
  public List<String> unreachableHosts() {
    return unreachableHosts;
  }
}
