// The standard text-classification pipeline around TextClassifier, built from
// MLlib's own stages: RegexTokenizer (lower-cased words) -> StopWordsRemover
// (English, keeping negations, which carry sentiment) -> TextClassifier; for a
// classifier with a GPT backbone, only RegexTokenizer splitting at whitespace with
// case kept, so the words joined by spaces are the text the GPT's tokenizer reads.
// The jobs use it; users may assemble their own.
package org.ringtrain.driver.classify;

import java.util.Arrays;
import java.util.Set;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.feature.StopWordsRemover;

/** Factory of the tokenise, remove stop words, classify pipeline. */
public final class TextPipeline {
  /** The tokens column between the stop-word remover and the classifier. */
  public static final String TOKENS = "tokens";

  /** Words separated by anything but letters, digits and apostrophes. */
  public static final String WORD_SPLIT = "[^\\p{L}\\p{N}']+";

  private static final Set<String> NEGATIONS = Set.of("no", "not", "nor", "don't", "didn't", "doesn't", "isn't",
      "wasn't", "won't", "can't", "couldn't", "wouldn't", "shouldn't", "aren't", "weren't", "hasn't", "haven't",
      "hadn't", "mustn't", "needn't");

  private TextPipeline() {
  }

  /** Lower-cased words of {@code textCol} into {@code textCol + "_words"}. */
  public static RegexTokenizer tokenizer(String textCol) {
    return new RegexTokenizer().setInputCol(textCol).setOutputCol(textCol + "_words").setPattern(WORD_SPLIT)
        .setToLowercase(true);
  }

  /** Spark's English stop words without the negations ("not good" is not "good"), into {@link #TOKENS}. */
  public static StopWordsRemover stopWords(String textCol) {
    String[] words = Arrays.stream(StopWordsRemover.loadDefaultStopWords("english"))
        .filter(w -> !NEGATIONS.contains(w)).toArray(String[]::new);
    return new StopWordsRemover().setInputCol(textCol + "_words").setOutputCol(TOKENS).setStopWords(words);
  }

  /**
   * The words of {@code textCol} as they are (split at whitespace, case and stop words kept) into
   * {@link #TOKENS}: joined by spaces they give back the text, whitespace runs made single, for a
   * backbone's tokenizer.
   */
  public static RegexTokenizer whitespace(String textCol) {
    return new RegexTokenizer().setInputCol(textCol).setOutputCol(TOKENS).setPattern("\\s+").setToLowercase(false);
  }

  /**
   * The stages before {@code classifier}: {@link #tokenizer} and {@link #stopWords}, or for a
   * classifier with a backbone {@link #whitespace} alone. Their output column is {@link #TOKENS}.
   */
  public static PipelineStage[] textStages(String textCol, TextClassifier classifier) {
    return classifier.hasBackbone() ? new PipelineStage[] {whitespace(textCol)}
        : new PipelineStage[] {tokenizer(textCol), stopWords(textCol)};
  }

  /** {@link #textStages} and {@code classifier} (its inputCol set to {@link #TOKENS}). */
  public static Pipeline of(String textCol, TextClassifier classifier) {
    PipelineStage[] text = textStages(textCol, classifier);
    PipelineStage[] all = Arrays.copyOf(text, text.length + 1);
    all[text.length] = classifier.setInputCol(TOKENS);
    return new Pipeline().setStages(all);
  }
}
