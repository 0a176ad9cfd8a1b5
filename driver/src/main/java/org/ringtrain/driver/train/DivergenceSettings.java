/*
 * DivergenceSettings: what the training loop does when a step's loss or gradient norm is not a
 * finite number (stop the run, or skip the step up to a limit); one validated record of the loop's
 * config. It detects nothing itself (NonFiniteGuard does, inside the rank loop).
 */
package org.ringtrain.driver.train;

import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * @param onNonFinite     {@code stop} (default): the run fails at the first step whose global loss
 *                        or gradient norm is NaN or infinite, before that step's update;
 *                        {@code skip}: that step leaves the parameters and optimizer state untouched
 *                        and is counted in the metrics
 * @param maxSkippedSteps with {@code skip}, consecutive skipped steps allowed; one more non-finite
 *                        step in a row stops the run (default 5)
 */
public record DivergenceSettings(OnNonFinite onNonFinite, int maxSkippedSteps) implements Serializable {

  /** What a step with a non-finite loss or gradient norm does. */
  public enum OnNonFinite {
    /** Fail the run, naming the step, the ranks and the value. */
    STOP,
    /** Leave parameters and optimizer state as they were, count the step, go on. */
    SKIP
  }

  /** Every default, keyed by setting. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("onNonFinite", "stop");
    d.put("maxSkippedSteps", 5);
    return d;
  }

  /** Validates every field. */
  public DivergenceSettings {
    require(onNonFinite != null, "onNonFinite", onNonFinite, "use stop (fail the run) or skip (skip the step)");
    require(maxSkippedSteps >= 1, "maxSkippedSteps", maxSkippedSteps,
        "use 1 or more consecutive steps; use onNonFinite: stop to allow none");
  }
}
