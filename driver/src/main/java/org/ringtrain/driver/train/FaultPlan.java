// A deliberate failure for drills and tests of the retry-and-resume path: the
// given rank throws at the given step, on the first stage attempt only. Never
// part of a TrainConfig, so it cannot reach a production run by a config file.
package org.ringtrain.driver.train;

import java.io.Serializable;
import org.ringtrain.driver.gpt.TrainConfig;

/**
 * Where to inject a failure.
 *
 * @param step the step at which to fail (before its optimizer update); negative = never
 * @param rank the rank that fails
 */
public record FaultPlan(long step, int rank) implements Serializable {
  /** No failure. */
  public static final FaultPlan NONE = new FaultPlan(-1, -1);

  boolean firesAt(long currentStep, int currentRank, int stageAttempt) {
    return stageAttempt == 0 && currentStep == step && currentRank == rank;
  }
}
