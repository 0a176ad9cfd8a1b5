/*
 * GradientAccumulator: bookkeeping for gradient accumulation over micro-batches: counts them,
 * averages their losses, and turns the summed gradient into the mean. It does not run forward or
 * backward and does not zero gradients; the model does both.
 */
package org.ringtrain.ops.optim;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gradient accumulation over {@code microSteps} micro-batches, nanoGPT's
 * {@code gradient_accumulation_steps}.
 *
 * <p>Contract: the model's loss is already the <em>mean</em> over the micro-batch's counted tokens,
 * and its backward <em>accumulates</em> into the gradient buffer (zeroed once per step by the
 * model). After {@code k} micro-batches the buffer holds the sum of {@code k} mean-gradients;
 * {@link #finish} divides it by {@code k}, which gives the gradient of the mean of the micro-batch
 * losses: the full-batch mean whenever every micro-batch counts the same number of tokens (always
 * true without an ignore index). nanoGPT gets the same by dividing the loss by {@code k} before
 * backward. Use it as:
 * <pre>
 *   model.zeroGrad();
 *   for (int i = 0; i &lt; acc.microSteps(); i++) {
 *     double loss = model.forward(inputs[i], targets[i]);   // GptModel: mean over counted tokens
 *     model.backward();                                     // accumulates into model.grads()
 *     acc.add(loss);
 *   }
 *   double stepLoss = acc.finish(model.grads().flat());      // grads now the mean
 * </pre>
 */
public final class GradientAccumulator {

  private final int microSteps;
  private int added;
  private double lossSum;

  /**
   * An accumulator over {@code microSteps} micro-batches per optimizer step.
   *
   * @param microSteps micro-batches per step, &gt;= 1 (1 means no accumulation)
   */
  public GradientAccumulator(int microSteps) {
    if (microSteps < 1) {
      throw new IllegalArgumentException("microSteps must be >= 1, but found microSteps=" + microSteps
          + "; use 1 for no accumulation");
    }
    this.microSteps = microSteps;
  }

  /** Micro-batches per optimizer step. */
  public int microSteps() {
    return microSteps;
  }

  /** Micro-batches recorded since the last {@link #finish}. */
  public int added() {
    return added;
  }

  /** Whether all micro-batches of this step were recorded, so {@link #finish} may be called. */
  public boolean isComplete() {
    return added == microSteps;
  }

  /**
   * Records one micro-batch whose backward has run.
   *
   * @param loss the micro-batch's mean loss
   * @throws IllegalStateException when the step already has all its micro-batches
   */
  public void add(double loss) {
    if (added == microSteps) {
      throw new IllegalStateException("all " + microSteps + " micro-batches of this step were already added; call "
          + "finish(grads) before the next micro-batch");
    }
    added++;
    lossSum += loss;
  }

  /**
   * Ends the step: divides {@code grads} in place by the number of micro-batches (nothing when it is
   * 1) and starts counting the next step.
   *
   * @param grads the flat gradient buffer holding the summed micro-batch gradients
   * @return the mean of the micro-batch losses, the step's loss
   * @throws IllegalStateException before all micro-batches were added
   */
  public double finish(INDArray grads) {
    if (added != microSteps) {
      throw new IllegalStateException("finish after " + added + " of " + microSteps
          + " micro-batches; add the remaining micro-batches first");
    }
    if (grads == null) {
      throw new IllegalArgumentException("grads must not be null; pass the flat gradient buffer");
    }
    if (microSteps > 1) {
      grads.divi(microSteps);
    }
    double mean = lossSum / microSteps;
    added = 0;
    lossSum = 0.0;
    return mean;
  }
}
