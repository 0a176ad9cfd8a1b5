// Why a text classifier predicted what it did: the prediction and, for each
// token, how much it moved the prediction (by occlusion or LIME, see TokenWeight).
package org.ringtrain.driver.classify;

import java.io.Serializable;
import java.util.Comparator;
import java.util.List;

/**
 * An explanation of one prediction (occlusion or LIME; {@link TokenWeight#weight()} says what a
 * weight means in each).
 *
 * @param prediction  the predicted class
 * @param probability its probability
 * @param tokens      every token the model saw, in row order, with its weight
 */
public record Explanation(int prediction, double probability, List<TokenWeight> tokens) implements Serializable {

  /** Compact constructor: keeps an unmodifiable copy. */
  public Explanation {
    tokens = List.copyOf(tokens);
  }

  /** The {@code k} tokens that pushed most towards the predicted class (positive weights, largest first). */
  public List<TokenWeight> towards(int k) {
    return tokens.stream().filter(t -> t.weight() > 0)
        .sorted(Comparator.comparingDouble(TokenWeight::weight).reversed()).limit(k).toList();
  }

  /** The {@code k} tokens that pushed most away from it (negative weights, most negative first). */
  public List<TokenWeight> away(int k) {
    return tokens.stream().filter(t -> t.weight() < 0)
        .sorted(Comparator.comparingDouble(TokenWeight::weight)).limit(k).toList();
  }
}
