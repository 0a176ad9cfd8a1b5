/*
 * LearningRateSchedule: the learning rate as a function of the training step. It is not tied to an
 * optimizer: the training loop asks it for each step's rate and passes that to Optimizer.step.
 */
package org.ringtrain.ops.optim;

/** The learning rate of each training step. */
@FunctionalInterface
public interface LearningRateSchedule {

  /**
   * The learning rate for iteration {@code step}, counted from 0 (the first update uses step 0),
   * as nanoGPT's {@code get_lr(iter_num)}.
   *
   * @param step iteration number, &gt;= 0
   * @return a finite learning rate &gt;= 0
   */
  double lr(long step);

  /** The same rate {@code lr} at every step. */
  static LearningRateSchedule constant(double lr) {
    StepChecks.checkLearningRate(lr);
    return step -> lr;
  }
}
