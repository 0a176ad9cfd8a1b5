/*
 * ClassifyRoute: POST /v1/classify - validates the texts, tokenizes them with the pipeline's own
 * stages, queues them for a shared forward pass and answers with each text's label, probabilities
 * and, when asked, its explanation. It does not run the model (see ServedClassifier).
 */
package org.ringtrain.driver.serve;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.ringtrain.driver.classify.Explanation;
import org.ringtrain.driver.classify.ExplanationMethod;
import org.ringtrain.driver.classify.TokenWeight;

/** The classify endpoint. */
final class ClassifyRoute {
  static final Set<String> FIELDS = Set.of("model", "texts", "explain", "method", "samples", "seed");
  /** Most perturbed copies of a text a LIME explanation may ask for. */
  static final int MAX_LIME_SAMPLES = 5000;
  /** Most explanation tokens per direction a request may ask for. */
  static final int MAX_EXPLAIN = 50;
  /** Explanation methods the API knows. */
  static final List<String> METHODS = List.of("occlusion", "lime");

  private final Map<String, ServedClassifier> models;
  private final ServeSettings settings;

  ClassifyRoute(Map<String, ServedClassifier> models, ServeSettings settings) {
    this.models = models;
    this.settings = settings;
  }

  void handle(Request request, Response response) throws IOException, InterruptedException {
    long start = System.nanoTime();
    JsonRequest body = JsonRequest.read(request, settings.maxBodyBytes(), settings.readTimeoutMs()).onlyFields(FIELDS);
    ServedClassifier model = ModelServer.pick(models, body.string("model", ""), "classifier", "--model-dir");
    List<String> texts = body.strings("texts", settings.maxTexts());
    int explain = (int) body.integer("explain", 0L, 0, MAX_EXPLAIN);
    String method = body.string("method", "occlusion");
    if (!METHODS.contains(method)) {
      throw ApiError.badRequest("'method' must be one of " + METHODS + ", but found '" + method + "'");
    }
    int samples = (int) body.integer("samples", (long) ExplanationMethod.DEFAULT_SAMPLES, 1, MAX_LIME_SAMPLES);
    long seed = body.integer("seed", ExplanationMethod.DEFAULT_SEED, Long.MIN_VALUE, Long.MAX_VALUE);
    ExplanationMethod how = "lime".equals(method) ? ExplanationMethod.lime(samples, seed) : ExplanationMethod.occlusion();
    List<List<String>> rows = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      String t = texts.get(i);
      if (t.length() > settings.maxPromptChars()) {
        throw ApiError.badRequest("texts[" + i + "] must hold at most " + settings.maxPromptChars()
            + " characters, but found " + t.length() + "; shorten it");
      }
      rows.add(model.tokens(t));
    }
    CompletableFuture<List<ServedClassifier.Result>> answer = new CompletableFuture<>();
    if (!model.submit(new ServedClassifier.Job(rows, explain, how, answer))) {
      throw new ApiError(429, "queue_full", "the classify queue is full (" + settings.queueCapacity()
          + " waiting); retry after the Retry-After seconds", 1);
    }
    List<ServedClassifier.Result> results;
    try {
      results = answer.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("classification failed inside the model: " + e.getCause().getMessage(), e);
    }
    List<Map<String, Object>> out = new ArrayList<>(results.size());
    for (ServedClassifier.Result r : results) {
      out.add(result(r, explain, method));
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("model", model.name());
    json.put("results", out);
    json.put("timing", Map.of("total_ms", (System.nanoTime() - start) / 1e6));
    Responses.json(response, 200, json);
  }

  private static Map<String, Object> result(ServedClassifier.Result r, int explain, String method) {
    double[] p = r.probabilities();
    int label = 0;
    for (int k = 1; k < p.length; k++) {
      label = p[k] > p[label] ? k : label;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("label", label);
    m.put("probabilities", p);
    m.put("tokens", r.tokens());
    if (r.explanation() != null) {
      Explanation e = r.explanation();
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("method", method);
      x.put("towards", weights(e.towards(explain)));
      x.put("away", weights(e.away(explain)));
      x.put("tokens", weights(e.tokens()));
      m.put("explanation", x);
    }
    return m;
  }

  private static List<Map<String, Object>> weights(List<TokenWeight> tokens) {
    List<Map<String, Object>> out = new ArrayList<>(tokens.size());
    for (TokenWeight t : tokens) {
      Map<String, Object> w = new LinkedHashMap<>();
      w.put("token", t.token());
      w.put("position", t.position());
      w.put("weight", t.weight());
      out.add(w);
    }
    return out;
  }
}
