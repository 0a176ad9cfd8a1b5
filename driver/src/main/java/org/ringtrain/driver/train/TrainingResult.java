// What GptTrainer.fit returns: the outcome of the run as the driver saw it.
// Immutable. The weights themselves live in the final checkpoint.
package org.ringtrain.driver.train;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.ringtrain.driver.metrics.MetricsEvent;

/**
 * The outcome of a training run.
 *
 * @param config      the resolved configuration
 * @param ranks       each rank's result, ordered by rank
 * @param checkpoints complete checkpoints in the checkpoint directory, oldest first
 * @param events      every metrics event the driver received, in order
 */
public record TrainingResult(TrainConfig config, List<RankResult> ranks, List<String> checkpoints,
    List<MetricsEvent> events) {

  public TrainingResult {
    ranks = ranks.stream().sorted(Comparator.comparingInt(RankResult::rank)).toList();
    checkpoints = List.copyOf(checkpoints);
    events = List.copyOf(events);
  }

  /** The global training loss of the last step. */
  public double finalLoss() {
    double[] losses = ranks.get(0).losses();
    return losses.length == 0 ? Double.NaN : losses[losses.length - 1];
  }

  /** The last validation loss (NaN when there was no validation data). */
  public double validationLoss() {
    return ranks.get(0).valLoss();
  }

  /** The newest checkpoint, which holds the trained weights. */
  public String finalCheckpoint() {
    return checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1);
  }

  /** True when every rank reported the same parameter hash at every check. */
  public boolean replicasIdentical() {
    long[] first = ranks.get(0).paramHashes();
    return ranks.stream().allMatch(r -> Arrays.equals(first, r.paramHashes()));
  }
}
