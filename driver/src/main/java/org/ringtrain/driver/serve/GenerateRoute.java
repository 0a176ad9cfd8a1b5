/*
 * GenerateRoute: POST /v1/generate - validates the request against the model and the server's
 * limits, queues a Generation and answers with the whole text or as server-sent events while the
 * tokens come. It does not run the model (see GenerationScheduler).
 */
package org.ringtrain.driver.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.Sampling;

/** The generate endpoint. Defaults as {@code ringtrain generate}: temperature 0.8, top_k 40, seed 1337. */
final class GenerateRoute {
  static final Set<String> FIELDS = Set.of("model", "prompt", "max_tokens", "temperature", "top_k", "seed", "stream");
  static final long DEFAULT_MAX_TOKENS = 64;
  static final double DEFAULT_TEMPERATURE = 0.8;
  static final long DEFAULT_TOP_K = 40;
  static final long DEFAULT_SEED = 1337;

  private final Map<String, ServedGpt> models;
  private final ServeSettings settings;

  GenerateRoute(Map<String, ServedGpt> models, ServeSettings settings) {
    this.models = models;
    this.settings = settings;
  }

  void handle(Request request, Response response) throws IOException, InterruptedException {
    JsonRequest body = JsonRequest.read(request, settings.maxBodyBytes(), settings.readTimeoutMs()).onlyFields(FIELDS);
    ServedGpt gpt = ModelServer.pick(models, body.string("model", ""), "GPT", "--checkpoint-dir or --weights");
    String prompt = body.string("prompt", null);
    if (prompt.isEmpty() || prompt.length() > settings.maxPromptChars()) {
      throw ApiError.badRequest("'prompt' must hold 1 to " + settings.maxPromptChars() + " characters, but found "
          + prompt.length() + (prompt.isEmpty() ? "; give text to continue" : "; shorten it"));
    }
    int maxTokens = (int) body.integer("max_tokens", DEFAULT_MAX_TOKENS, 1, settings.maxTokens());
    double temperature = body.nonNegative("temperature", DEFAULT_TEMPERATURE);
    int topK = (int) body.integer("top_k", DEFAULT_TOP_K, 0, gpt.config().vocabSize());
    long seed = body.integer("seed", DEFAULT_SEED, Long.MIN_VALUE, Long.MAX_VALUE);
    boolean stream = body.bool("stream", false);
    int[] promptTokens = gpt.tokenizer().encode(prompt.getBytes(StandardCharsets.UTF_8));
    int context = gpt.config().contextLength();
    if (promptTokens.length + maxTokens > context) {
      throw ApiError.badRequest("the prompt is " + promptTokens.length + " tokens and max_tokens is " + maxTokens
          + ": together more than the model's context of " + context + " tokens; shorten the prompt or ask for fewer"
          + " tokens");
    }
    Sampling sampling = temperature == 0 ? Sampling.greedy() : new Sampling(temperature, topK);
    Generation g = new Generation(promptTokens, maxTokens, sampling, seed);
    if (!gpt.scheduler().submit(g)) {
      throw new ApiError(429, "queue_full", "the generate queue is full (" + settings.queueCapacity()
          + " waiting); retry after the Retry-After seconds", 1);
    }
    TextStream text = new TextStream(gpt.tokenizer(), maxTokens);
    if (stream) {
      Responses.startEvents(response);
    }
    long firstTokenNanos = 0;
    try {
      for (Object event = g.next(1000); event != Generation.DONE; event = g.next(1000)) {
        if (event instanceof RuntimeException failure) {
          throw failure;
        }
        if (event instanceof Integer token) {
          firstTokenNanos = firstTokenNanos == 0 ? System.nanoTime() : firstTokenNanos;
          String piece = text.add(token);
          if (stream && !piece.isEmpty()) {
            Responses.event(response, null, Map.of("text", piece), false);
          }
        }
      }
      Map<String, Object> result = result(gpt, text, promptTokens.length, seed, g.submittedNanos, firstTokenNanos);
      if (stream) {
        String rest = text.rest();
        if (!rest.isEmpty()) {
          Responses.event(response, null, Map.of("text", rest), false);
        }
        Responses.event(response, "done", result, true);
      } else {
        Responses.json(response, 200, result);
      }
    } catch (IOException | RuntimeException | InterruptedException e) {
      g.cancel(); // the client went away (or the server stops): its rows leave the batch at the next step
      throw e;
    }
  }

  private static Map<String, Object> result(ServedGpt gpt, TextStream text, int promptTokens, long seed,
      long submitted, long firstToken) {
    long now = System.nanoTime();
    double totalMs = (now - submitted) / 1e6;
    Map<String, Object> timing = new LinkedHashMap<>();
    timing.put("time_to_first_token_ms", (firstToken - submitted) / 1e6);
    timing.put("total_ms", totalMs);
    timing.put("tokens_per_second", text.count() / Math.max(totalMs / 1000, 1e-9));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", gpt.name());
    out.put("text", text.full());
    out.put("prompt_tokens", promptTokens);
    out.put("completion_tokens", text.count());
    out.put("seed", seed);
    out.put("timing", timing);
    return out;
  }

  /**
   * The generated text, decoded as tokens arrive. A piece is released only when the decoded text
   * so far extends what was already sent and does not end in a replacement character (a multi-byte
   * character whose bytes are not all in yet), so the pieces always concatenate to the full text.
   */
  static final class TextStream {
    private final Tokenizer tokenizer;
    private final int[] tokens;
    private int count;
    private String sent = "";

    TextStream(Tokenizer tokenizer, int capacity) {
      this.tokenizer = tokenizer;
      this.tokens = new int[capacity];
    }

    /** Adds a token; returns the text that may be sent now (often empty mid-character). */
    String add(int token) {
      tokens[count++] = token;
      String now = full();
      if (!now.startsWith(sent) || now.endsWith("\uFFFD")) {
        return "";
      }
      String piece = now.substring(sent.length());
      sent = now;
      return piece;
    }

    /** What was held back, sent at the end; empty when the held text would not extend what was sent. */
    String rest() {
      String now = full();
      String piece = now.startsWith(sent) ? now.substring(sent.length()) : "";
      sent = now;
      return piece;
    }

    int count() {
      return count;
    }

    String full() {
      return tokenizer.decode(Arrays.copyOf(tokens, count));
    }
  }
}
