// How a text classifier's prediction is explained: by occlusion (one forward pass
// per token without it) or by LIME (a local linear surrogate fitted to predictions
// of randomly perturbed copies of the row). A value only: Lime and Predictor do
// the work. It is not a param type of Spark ML (the model's params are plain
// strings and numbers; of(...) turns them into this).
package org.ringtrain.driver.classify;

import java.io.Serializable;
import java.util.Locale;

/**
 * An explanation method and its settings.
 *
 * @param name    {@link #OCCLUSION} or {@link #LIME}
 * @param samples LIME only: perturbed copies of the row, the row itself included, at least 2
 *                (default {@link #DEFAULT_SAMPLES}); ignored by occlusion
 * @param seed    LIME only: the seed of the perturbations; the same seed gives the same explanation
 *                (default {@link #DEFAULT_SEED}); ignored by occlusion
 */
public record ExplanationMethod(String name, int samples, long seed) implements Serializable {

  /** Occlusion: a token's weight is the predicted class's log-odds with it minus without it. */
  public static final String OCCLUSION = "occlusion";

  /** LIME (Ribeiro et al., KDD 2016, arXiv:1602.04938): kernel-weighted ridge regression on word presence. */
  public static final String LIME = "lime";

  /** Default LIME sample count: 500 perturbed rows, eight forward passes of 64 rows. */
  public static final int DEFAULT_SAMPLES = 500;

  /** Default LIME seed. */
  public static final long DEFAULT_SEED = 42L;

  /** Validates the name (any case) and, for LIME, the sample count. */
  public ExplanationMethod {
    String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
    if (!n.equals(OCCLUSION) && !n.equals(LIME)) {
      throw new IllegalArgumentException("explanation method must be 'occlusion' or 'lime', but found '" + name
          + "'; occlusion is exact per token, lime fits a local linear model to perturbed copies of the text");
    }
    if (n.equals(LIME) && samples < 2) {
      throw new IllegalArgumentException("LIME needs at least 2 samples (the row and one perturbation), but found "
          + samples + "; use a few hundred (default " + DEFAULT_SAMPLES + ")");
    }
    name = n;
  }

  /** Occlusion, the default method. */
  public static ExplanationMethod occlusion() {
    return new ExplanationMethod(OCCLUSION, DEFAULT_SAMPLES, DEFAULT_SEED);
  }

  /** LIME with {@code samples} perturbed rows drawn from {@code seed}. */
  public static ExplanationMethod lime(int samples, long seed) {
    return new ExplanationMethod(LIME, samples, seed);
  }

  /** Whether this is LIME. */
  public boolean isLime() {
    return LIME.equals(name);
  }
}
