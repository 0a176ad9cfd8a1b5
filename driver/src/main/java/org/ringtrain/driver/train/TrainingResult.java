// What DataParallelTrainer.fit returns: the outcome of the run as the driver
// saw it, including the exact checkpoint that holds the weights it trained.
// Immutable. The weights themselves stay in that checkpoint until asked for.
package org.ringtrain.driver.train;

import java.io.IOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * The outcome of a training run.
 *
 * @param config      the resolved configuration
 * @param ranks       each rank's result, ordered by rank
 * @param checkpoints complete checkpoints in the checkpoint directory after the run, oldest first;
 *                    another run writing into the same directory may have added some
 * @param events      every metrics event the driver received, in order
 */
public record TrainingResult(LoopConfig config, List<RankResult> ranks, List<String> checkpoints,
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

  /**
   * This run's final checkpoint, which holds the weights it trained: the one rank 0 wrote after
   * the last step (or resumed from, when no step was left to run). Never a newer checkpoint that
   * another run put into the same directory.
   *
   * @return the fully qualified path of the {@code step-N} directory
   */
  public String finalCheckpoint() {
    String path = ranks.get(0).finalCheckpoint();
    if (path == null) {
      throw new IllegalStateException("rank 0 reported no checkpoint for this run of " + config.steps()
          + " steps in " + config.checkpoints().checkpointDir() + "; rank 0 writes one after the last step, so the stage did not"
          + " finish normally: check the executor logs");
    }
    return path;
  }

  /**
   * Reads and verifies {@link #finalCheckpoint()} (manifest, sizes, SHA-256, layout); the caller
   * closes it.
   *
   * @param layout     the layout of the model that was trained
   * @param hadoopConf Hadoop settings to reach the checkpoint directory, e.g.
   *                   {@link DataParallelTrainer#hadoopSettings}; may be empty
   * @throws org.ringtrain.driver.checkpoint.CorruptCheckpointException if it no longer verifies
   * @throws IOException                                                 from the file system
   */
  public Checkpoint loadFinalCheckpoint(ParameterLayout layout, HadoopSettings hadoop) throws IOException {
    return new CheckpointStore(hadoop, config.checkpoints().checkpointDir()).load(finalCheckpoint(), layout);
  }

  /** True when every rank reported the same parameter hash at every check. */
  public boolean replicasIdentical() {
    long[] first = ranks.get(0).paramHashes();
    return ranks.stream().allMatch(r -> Arrays.equals(first, r.paramHashes()));
  }
}
