/*
 * WarmupCosineSchedule: linear warm-up, then cosine decay to a floor, then the floor; nanoGPT's
 * get_lr. It holds no optimizer and no state beyond its four numbers.
 */
package org.ringtrain.ops.optim;

/**
 * nanoGPT's learning-rate schedule (train.py {@code get_lr}), with cosine decay from SGDR
 * (Loshchilov &amp; Hutter, arXiv:1608.03983) without restarts:
 * <pre>
 *   step &lt; warmupSteps:          maxLr * (step + 1) / (warmupSteps + 1)
 *   step &gt; decaySteps:           minLr
 *   otherwise, r = (step - warmupSteps) / (decaySteps - warmupSteps):
 *                                minLr + 0.5 * (1 + cos(pi * r)) * (maxLr - minLr)
 * </pre>
 * So the rate climbs to just under {@code maxLr}, is exactly {@code maxLr} at {@code warmupSteps},
 * exactly {@code minLr} at {@code decaySteps} and stays there.
 *
 * @param maxLr       peak learning rate, finite, &gt;= minLr
 * @param minLr       floor after decay, finite, &gt;= 0; nanoGPT (after Chinchilla) uses maxLr / 10
 * @param warmupSteps steps of linear warm-up, &gt;= 0
 * @param decaySteps  step at which the decay reaches {@code minLr}, &gt; warmupSteps
 */
public record WarmupCosineSchedule(double maxLr, double minLr, long warmupSteps, long decaySteps)
    implements LearningRateSchedule {

  /** Floor as a fraction of the peak used by {@link #withTenthFloor}: 0.1. */
  public static final double DEFAULT_FLOOR_FRACTION = 0.1;

  /** Checks every field; messages name the field and the value found. */
  public WarmupCosineSchedule {
    StepChecks.checkLearningRate(maxLr);
    StepChecks.checkLearningRate(minLr);
    if (minLr > maxLr) {
      throw new IllegalArgumentException("minLr must be <= maxLr, but found minLr=" + minLr + ", maxLr=" + maxLr
          + "; swap them or lower minLr");
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warmupSteps must be >= 0, but found warmupSteps=" + warmupSteps);
    }
    if (decaySteps <= warmupSteps) {
      throw new IllegalArgumentException("decaySteps must be > warmupSteps, but found decaySteps=" + decaySteps
          + ", warmupSteps=" + warmupSteps + "; decaySteps is usually the total number of training steps");
    }
  }

  /** The schedule with {@code minLr = maxLr / 10}, nanoGPT's default ratio. */
  public static WarmupCosineSchedule withTenthFloor(double maxLr, long warmupSteps, long decaySteps) {
    return new WarmupCosineSchedule(maxLr, maxLr * DEFAULT_FLOOR_FRACTION, warmupSteps, decaySteps);
  }

  @Override
  public double lr(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, but found step=" + step);
    }
    if (step < warmupSteps) {
      return maxLr * (step + 1) / (warmupSteps + 1);
    }
    if (step > decaySteps) {
      return minLr;
    }
    double decayRatio = (double) (step - warmupSteps) / (decaySteps - warmupSteps);
    double coeff = 0.5 * (1.0 + Math.cos(Math.PI * decayRatio));
    return minLr + coeff * (maxLr - minLr);
  }
}
