/*
 * Sampling: how the next token is picked from a row of logits (greedy, temperature, top-k), with a
 * seeded pure-Java generator so a seed gives the same text in every JVM. It does not run the model
 * (see Generator).
 */
package org.ringtrain.ops.gpt;

import java.util.Arrays;
import org.ringtrain.ops.param.SplitMix64;

/**
 * A token-picking rule.
 *
 * @param temperature 0 for greedy (argmax); otherwise logits are divided by it before the softmax
 * @param topK        0 to sample from the whole vocabulary; otherwise only from the k largest logits
 */
public record Sampling(double temperature, int topK) {

  /** Validates both fields. */
  public Sampling {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0 and finite, but found " + temperature
          + "; use 0 for greedy decoding");
    }
    if (topK < 0) {
      throw new IllegalArgumentException("topK must be >= 0, but found " + topK + "; use 0 for no limit");
    }
  }

  /** Greedy decoding: always the most likely token. */
  public static Sampling greedy() {
    return new Sampling(0, 0);
  }

  /** Whether this rule is greedy. */
  public boolean isGreedy() {
    return temperature == 0 || topK == 1;
  }

  /**
   * Picks a token from one row of logits.
   *
   * @param logits V logits (not modified)
   * @param rng    source of randomness; unused when greedy
   */
  public int pick(double[] logits, SplitMix64 rng) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    if (isGreedy()) {
      return best;
    }
    double threshold = Double.NEGATIVE_INFINITY;
    if (topK > 0 && topK < logits.length) {
      double[] sorted = logits.clone();
      Arrays.sort(sorted);
      threshold = sorted[sorted.length - topK];
    }
    double max = logits[best];
    double[] weights = new double[logits.length];
    double total = 0;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] >= threshold) {
        weights[i] = Math.exp((logits[i] - max) / temperature);
        total += weights[i];
      }
    }
    double u = rng.nextDouble() * total;
    double cumulative = 0;
    int last = best;
    for (int i = 0; i < logits.length; i++) {
      if (weights[i] > 0) {
        cumulative += weights[i];
        last = i;
        if (u < cumulative) {
          return i;
        }
      }
    }
    return last;
  }
}
