/*
 * GptText: text generation from a prompt on any GptWeights, with a sliding window past the
 * context length. Shared by the float32 and int8 models; it does not load weights.
 */
package org.ringtrain.driver.gpt;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.Generator;
import org.ringtrain.ops.gpt.GptWeights;
import org.ringtrain.ops.gpt.Sampling;

/** See {@link InferenceGpt#generate}. */
final class GptText {

  private GptText() {
  }

  /** Continues {@code prompt} by {@code tokens} tokens with {@code weights}; see {@link InferenceGpt#generate}. */
  static String generate(Tokenizer tokenizer, GptWeights weights, String prompt, int tokens, double temperature,
      int topK, long seed) {
    try (Generator generator = new Generator(weights, 1)) {
      return tokenizer.decode(continueTokens(tokenizer, generator, prompt, tokens, temperature, topK, seed));
    }
  }

  /**
   * The tokens of {@code prompt} followed by {@code tokens} new ones from {@code generator} (batch
   * 1). Past the context length the model sees the most recent half-context of text (a sliding
   * window). An empty prompt starts from token 0.
   *
   * @param temperature sampling temperature; 0 = greedy
   * @param topK        keep the K most likely tokens; 0 = all
   */
  static int[] continueTokens(Tokenizer tokenizer, Generator generator, String prompt, int tokens,
      double temperature, int topK, long seed) {
    int ctx = generator.config().contextLength();
    int[] text = tokenizer.encode(prompt.getBytes(StandardCharsets.UTF_8));
    if (text.length == 0) {
      text = new int[] {0};
    }
    Sampling sampling = temperature <= 0 ? Sampling.greedy() : new Sampling(temperature, topK);
    int[] out = Arrays.copyOf(text, text.length + tokens);
    int length = text.length;
    long chunkSeed = seed;
    while (length < out.length) {
      int window = Math.min(length, Math.max(1, ctx / 2));
      int[] context = Arrays.copyOfRange(out, length - window, length);
      int chunk = Math.min(out.length - length, ctx - window);
      int[] next = generator.generate(new int[][] {context}, chunk, sampling, chunkSeed++)[0];
      System.arraycopy(next, 0, out, length, chunk);
      length += chunk;
    }
    return out;
  }
}
