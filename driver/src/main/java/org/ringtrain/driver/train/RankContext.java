// What a rank's steps share with the rank loop that starts them: the run's config
// and recipe, the ring, the checkpoint store, rank 0's metrics channel, the fault
// plan of tests, the stage attempt and the question whether the task was killed.
// A value that holds no state of its own; RankLoop makes it, RankSteps reads it.
package org.ringtrain.driver.train;

import java.util.function.BooleanSupplier;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.metrics.MetricsClient;
import org.ringtrain.sync.RingCommunicator;

/**
 * @param metrics rank 0's metrics channel; null on the other ranks
 * @param killed  whether this rank's task was killed (its stage cancelled or failed elsewhere)
 */
record RankContext(LoopConfig cfg, ModelRecipe recipe, String tokenizerId, RingCommunicator ring,
    CheckpointStore store, MetricsClient metrics, FaultPlan fault, int stageAttempt, BooleanSupplier killed) {
}
