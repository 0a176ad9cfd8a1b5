/*
 * Optimizer: what the training loop needs of an optimizer over the flat parameter buffer. It is
 * not a parameter container: the model owns params and grads and passes them to every step.
 */
package org.ringtrain.ops.optim;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * An in-place update rule over one flat parameter buffer and its gradient buffer of the same
 * {@link ParameterLayout}. State (moments, step count) is allocated on the first step and released
 * by {@link #close()}. Given the same inputs and state, a step is bitwise deterministic.
 */
public sealed interface Optimizer extends AutoCloseable permits AdamW, Sgd {

  /**
   * Applies one update to {@code params} in place. {@code grads} is read, never written.
   *
   * @param params flat float32 parameters, {@code layout().totalElements()} elements
   * @param grads  flat float32 gradients of the same layout (already averaged and clipped)
   * @param lr     learning rate of this step, e.g. from a {@link LearningRateSchedule}; finite, &gt;= 0
   * @throws IllegalArgumentException for buffers of the wrong type or size, or a bad lr
   * @throws IllegalStateException    after {@link #close()}
   */
  void step(INDArray params, INDArray grads, double lr);

  /** Applies one update with the configured base learning rate. */
  default void step(INDArray params, INDArray grads) {
    step(params, grads, baseLearningRate());
  }

  /** The learning rate of the optimizer's config, used by {@link #step(INDArray, INDArray)}. */
  double baseLearningRate();

  /** Number of steps taken so far: 0 before the first step. */
  long stepCount();

  /** The layout every buffer passed to {@link #step} must follow. */
  ParameterLayout layout();

  /** Releases the optimizer's off-heap state; the optimizer cannot step afterwards. */
  @Override
  void close();
}
