// GptScorer: one trained GPT held open for many texts, as a task holds it for its partition: the
// log-likelihood of a text under the model, and the continuation of a prompt (the sliding-window
// generation that TrainedGpt.generate also uses). It does not train and does not touch Spark.
package org.ringtrain.driver.gpt;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.Generator;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

/** Scores texts and continues prompts with one model; close it to free the model's memory. */
final class GptScorer implements AutoCloseable {

  private static final int IGNORED = -1; // GptModel's default ignore index

  private final GptModel model;
  private final Tokenizer tokenizer;
  private final int ctx;
  private Generator generator; // made on the first generate

  /**
   * The score of one text.
   *
   * @param logLikelihood sum over the predicted tokens of ln p(token | the tokens before it)
   * @param tokens        tokens predicted: every token of the text after the first
   */
  record Score(double logLikelihood, long tokens) {
    /** exp(-logLikelihood / tokens); NaN when no token was predicted. */
    double perplexity() {
      return tokens == 0 ? Double.NaN : Math.exp(-logLikelihood / tokens);
    }
  }

  GptScorer(ModelConfig config, Tokenizer tokenizer, float[] weights) {
    this.model = new GptModel(config, DataType.FLOAT);
    this.model.params().flat().assign(Nd4j.createFromArray(weights));
    this.tokenizer = tokenizer;
    this.ctx = config.contextLength();
  }

  /**
   * Scores {@code text}: its tokens cut as {@code evaluate} cuts a file (windows of T+1 tokens with
   * stride T, so that the score of a text of k·T+1 tokens is exactly what {@code evaluate} sums),
   * then, for the tokens after the last whole window, one more window of T tokens of context
   * ending at the text's end that predicts only those.
   */
  Score score(String text) {
    int[] ids = tokenizer.encode(text.getBytes(StandardCharsets.UTF_8));
    int n = ids.length;
    if (n < 2) {
      return new Score(0, 0);
    }
    // Every pass is one row of T positions, padded past the text's end with ignored targets (causal
    // attention: padding never reaches the positions before it), so the model's activations are
    // allocated once for all rows of a partition, whatever their lengths.
    int[] in = new int[ctx];
    int[] tg = new int[ctx];
    int whole = n <= ctx ? 0 : (n - 1) / ctx;
    double sum = 0;
    for (int w = 0; w < whole; w++) {
      System.arraycopy(ids, w * ctx, in, 0, ctx);
      System.arraycopy(ids, w * ctx + 1, tg, 0, ctx);
      sum -= model.forward(in, tg, 1, ctx) * ctx;
    }
    int left = n - 1 - whole * ctx; // targets after the last whole window
    if (left > 0) {
      int t = Math.min(ctx, n - 1);
      int begin = n - 1 - t;
      Arrays.fill(in, 0);
      Arrays.fill(tg, IGNORED);
      System.arraycopy(ids, begin, in, 0, t);
      System.arraycopy(ids, n - left, tg, t - left, left); // the first t - left targets are already scored
      sum -= model.forward(in, tg, 1, ctx) * left;
    }
    return new Score(sum, n - 1L);
  }

  /**
   * The tokens of {@code prompt} followed by {@code tokens} new ones. Past the context length the
   * model sees the most recent half-context of text (a sliding window). An empty prompt starts
   * from token 0.
   *
   * @param temperature sampling temperature; 0 = greedy
   * @param topK        keep the K most likely tokens; 0 = all
   */
  int[] generate(String prompt, int tokens, double temperature, int topK, long seed) {
    if (generator == null) {
      generator = new Generator(model, 1);
    }
    return GptText.continueTokens(tokenizer, generator, prompt, tokens, temperature, topK, seed);
  }

  /** The tokenizer of the model. */
  Tokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public void close() {
    if (generator != null) {
      generator.close();
    }
    model.close();
  }
}
