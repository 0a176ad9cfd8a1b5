/*
 * DistillSettings: what a knowledge-distillation run adds to a GPT TrainConfig - the teacher's
 * checkpoint directory and the two weights of the loss. Read from the same flat settings as the
 * student's TrainConfig (conf/ file, then flags), whose other keys it leaves to TrainConfig. It
 * knows nothing about Spark and checks nothing about the teacher itself (GptDistiller.preflight does).
 */
package org.ringtrain.driver.gpt;

import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ringtrain.driver.config.FlatSettings;

/**
 * The distillation settings of a run: {@code loss = alpha * tau^2 * KL(softmax(teacher / tau) ||
 * softmax(student / tau)) + (1 - alpha) * cross-entropy}.
 *
 * @param teacher     checkpoint directory of the trained teacher on any Hadoop FileSystem (its
 *                    newest valid checkpoint is used); required
 * @param alpha       weight of the soft (teacher) term in [0, 1] (default 0.9); 0 is ordinary training
 * @param temperature tau, > 0 (default 1.0); above 1 softens both distributions so that the
 *                    teacher's ranking of unlikely tokens carries more signal
 *
 * <p>The defaults are the best of the measured settings (docs/compression.md: alpha 0.9, tau 1
 * closed 0.71 of the student-teacher gap at 600 steps, against 0.20 for alpha 0.5 and 0.49 for
 * alpha 0.9 with tau 2).
 */
public record DistillSettings(String teacher, double alpha, double temperature) implements Serializable {

  /** Default of {@code alpha}. */
  public static final double DEFAULT_ALPHA = 0.9;
  /** Default of {@code temperature}. */
  public static final double DEFAULT_TEMPERATURE = 1.0;

  private static final String WHAT = "distill config";

  /** Validates every field. */
  public DistillSettings {
    require(teacher != null && !teacher.isBlank(), "teacher", teacher,
        "give the teacher's checkpoint directory, e.g. --teacher target/runs/small");
    require(alpha >= 0 && alpha <= 1, "alpha", alpha, "use a weight in [0, 1]: 0 ignores the teacher, 0.9 (the default) did best in docs/compression.md");
    require(temperature > 0 && Double.isFinite(temperature), "temperature", temperature,
        "use a finite temperature > 0: 1 (the default) compares the plain distributions, 2 is common");
  }

  /** Every default, keyed by flat setting; {@code teacher} has none. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("alpha", DEFAULT_ALPHA);
    d.put("temperature", DEFAULT_TEMPERATURE);
    return d;
  }

  /** The flat keys these settings read: {@code teacher}, {@code alpha}, {@code temperature}. */
  public static List<String> keys() {
    return FlatSettings.keys(DistillSettings.class);
  }

  /**
   * The distillation settings among layers of flat settings (defaults first, later layers win);
   * every other key is ignored here (it belongs to the student's {@link TrainConfig}).
   */
  @SafeVarargs
  public static DistillSettings fromLayers(Map<String, ?>... layers) {
    Map<String, Object> merged = new LinkedHashMap<>(defaults());
    for (Map<String, ?> layer : layers) {
      for (String key : keys()) {
        if (layer.containsKey(key)) {
          merged.put(key, layer.get(key));
        }
      }
    }
    return FlatSettings.read(DistillSettings.class, merged, WHAT);
  }

  /** {@code layers} merged in order without the distillation keys: the student's TrainConfig layer. */
  @SafeVarargs
  public static Map<String, Object> withoutDistillKeys(Map<String, ?>... layers) {
    Map<String, Object> rest = new LinkedHashMap<>();
    for (Map<String, ?> layer : layers) {
      rest.putAll(layer);
    }
    rest.keySet().removeAll(keys());
    return rest;
  }
}
