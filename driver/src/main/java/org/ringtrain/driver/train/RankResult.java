// What each rank's task returns to the driver at the end of the stage: enough
// to check the run (replica hashes, losses) and to find its weights (rank 0's
// final checkpoint) without collecting parameters.
package org.ringtrain.driver.train;

import java.io.Serializable;

/**
 * The outcome of one rank's training task.
 *
 * @param rank            the rank
 * @param stageAttempt    the barrier stage attempt that produced it (0 = first)
 * @param firstStep       first step this attempt ran (after resume)
 * @param lastStep        steps completed in total
 * @param losses          the global mean training loss of each step this attempt ran
 * @param hashSteps       steps at which the parameter hash was taken
 * @param paramHashes     CRC-32C of the parameter bytes at those steps
 * @param valLoss         last validation loss (NaN when none ran)
 * @param computeMs       forward + backward time, summed over steps
 * @param exposedCommMs   time spent waiting for gradient buckets after backward, summed
 * @param commSpanMs      time the ring was busy with gradient buckets, summed
 * @param checkpointMs    time rank 0 spent writing checkpoints (0 on other ranks)
 * @param wallMs          the task's training loop time
 * @param finalCheckpoint the checkpoint that holds the parameters at {@code lastStep}: on rank 0 the
 *                        one it wrote last in this attempt, or the one it resumed from when no step
 *                        was left to run; null on the other ranks, which write none
 * @param skippedSteps    steps whose update was skipped for a non-finite loss or gradient norm
 *                        ({@code onNonFinite: skip}), in this attempt
 * @param divergence      why the run stopped early for non-finite values (the step, the value, the
 *                        ranks), the same on every rank; null when it ran to its last step
 */
public record RankResult(int rank, int stageAttempt, long firstStep, long lastStep, double[] losses,
    long[] hashSteps, long[] paramHashes, double valLoss, double computeMs, double exposedCommMs,
    double commSpanMs, double checkpointMs, double wallMs, String finalCheckpoint,
    long skippedSteps, String divergence) implements Serializable {
}
