/*
 * OptimizerSettings: AdamW and its learning-rate schedule, one validated record of the training
 * loop's config. Cross-checks against the number of steps live in LoopConfig.
 */
package org.ringtrain.driver.train;

import static org.ringtrain.driver.config.Checks.require;
import static org.ringtrain.driver.config.Checks.requireFinite;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * @param learningRate    peak AdamW learning rate (default 1e-3)
 * @param minLearningRate floor of the cosine decay (default 1e-4)
 * @param warmupSteps     linear warm-up steps (default 20); fewer than the loop's steps
 * @param weightDecay     AdamW decoupled weight decay on 2-D weights (default 0.1)
 * @param gradClip        global gradient-norm clip, 0 = off (default 1.0)
 * @param optimizerSharding shard AdamW's state over the ranks (ZeRO stage 1): each rank keeps m and
 *                        v of, and updates, only the 1/N of the parameters it owns after the
 *                        gradients' reduce-scatter, and the ring all-gathers the updated
 *                        parameters; optimizer memory and time per rank divided by N, the same
 *                        bytes on the wire (default false)
 */
public record OptimizerSettings(double learningRate, double minLearningRate, long warmupSteps, double weightDecay,
    double gradClip, boolean optimizerSharding) implements Serializable {

  /** Every default, keyed by setting. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("learningRate", 1e-3);
    d.put("minLearningRate", 1e-4);
    d.put("warmupSteps", 20);
    d.put("weightDecay", 0.1);
    d.put("gradClip", 1.0);
    d.put("optimizerSharding", false);
    return d;
  }

  /** Validates every field. */
  public OptimizerSettings {
    require(Double.isFinite(learningRate) && learningRate > 0, "learningRate", learningRate,
        "use a positive, finite learning rate");
    require(minLearningRate >= 0 && minLearningRate <= learningRate, "minLearningRate", minLearningRate,
        "use a value in [0, learningRate=" + learningRate + "]");
    require(warmupSteps >= 0, "warmupSteps", warmupSteps, "use 0 or more");
    requireFinite(weightDecay, 0, "weightDecay", "use a finite value, 0 or more");
    requireFinite(gradClip, 0, "gradClip", "use 0 (off) or a positive, finite norm");
  }
}
