/*
 * TextTokens: a saved pipeline's text stages (RegexTokenizer, StopWordsRemover) applied to one
 * string in plain Java, with the stages' own parameters, so the server tokenizes exactly as
 * transform() would without a Spark job per request. It supports no other stage.
 */
package org.ringtrain.driver.serve;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.feature.StopWordsRemover;

/** String to tokens, stage by stage, as Spark's RegexTokenizer and StopWordsRemover compute them. */
final class TextTokens {
  private final List<UnaryOperator<List<String>>> steps;
  private final Pattern split;
  private final boolean gaps;
  private final boolean lowercase;
  private final int minLength;

  private TextTokens(RegexTokenizer tokenizer, List<UnaryOperator<List<String>>> steps) {
    this.split = Pattern.compile(tokenizer.getPattern());
    this.gaps = tokenizer.getGaps();
    this.lowercase = tokenizer.getToLowercase();
    this.minLength = tokenizer.getMinTokenLength();
    this.steps = steps;
  }

  /**
   * The text stages of a pipeline: a RegexTokenizer first, then any StopWordsRemovers.
   *
   * @param stages every stage before the classifier
   * @param dir    the model directory, for messages
   */
  static TextTokens of(Transformer[] stages, String dir) {
    if (stages.length == 0 || !(stages[0] instanceof RegexTokenizer tokenizer)) {
      throw new IllegalArgumentException(dir + " does not start with a RegexTokenizer (found "
          + (stages.length == 0 ? "no stage" : stages[0].getClass().getSimpleName())
          + "); serve a --model-dir written by train-classifier");
    }
    List<UnaryOperator<List<String>>> steps = new ArrayList<>();
    for (int i = 1; i < stages.length; i++) {
      if (!(stages[i] instanceof StopWordsRemover remover)) {
        throw new IllegalArgumentException(dir + " has a " + stages[i].getClass().getSimpleName() + " at stage " + i
            + "; the server supports RegexTokenizer, StopWordsRemover and the text classifier only");
      }
      steps.add(removal(remover));
    }
    return new TextTokens(tokenizer, steps);
  }

  /** StopWordsRemover.transform on one row: case-insensitive by default, in the remover's locale. */
  private static UnaryOperator<List<String>> removal(StopWordsRemover remover) {
    boolean caseSensitive = remover.getCaseSensitive();
    Locale locale = Locale.forLanguageTag(remover.getLocale().replace('_', '-'));
    Set<String> stop = new HashSet<>();
    for (String w : remover.getStopWords()) {
      stop.add(caseSensitive ? w : w.toLowerCase(locale));
    }
    return tokens -> {
      List<String> kept = new ArrayList<>(tokens.size());
      for (String t : tokens) {
        if (!stop.contains(caseSensitive ? t : t.toLowerCase(locale))) {
          kept.add(t);
        }
      }
      return kept;
    };
  }

  /** The tokens the classifier sees for {@code text}. */
  List<String> tokens(String text) {
    String s = lowercase ? text.toLowerCase() : text;
    List<String> tokens = new ArrayList<>();
    if (gaps) {
      for (String t : split.split(s)) {
        if (t.length() >= minLength) {
          tokens.add(t);
        }
      }
    } else {
      var m = split.matcher(s);
      while (m.find()) {
        if (m.group().length() >= minLength) {
          tokens.add(m.group());
        }
      }
    }
    for (UnaryOperator<List<String>> step : steps) {
      tokens = step.apply(tokens);
    }
    return tokens;
  }
}
