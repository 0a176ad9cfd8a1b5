/*
 * ClassifyRouteTest: POST /v1/classify against a real server with a classifier pipeline trained
 * and saved by ServeFixtures (Spark local mode, once per test JVM; the server loads it as
 * `serve --model-dir` does) - labels,
 * probabilities and explanations equal to the model's own, requests merged into shared forwards
 * with unchanged answers, and the route's bad inputs.
 */
package org.ringtrain.driver.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.driver.serve.ServeFixtures.expectError;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.classify.Explanation;
import org.ringtrain.driver.classify.ExplanationMethod;
import org.ringtrain.driver.classify.TextClassificationModel;
import org.ringtrain.driver.fs.HadoopSettings;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClassifyRouteTest {
  private static TextClassificationModel model;
  private static ModelServer server;
  private static ServeFixtures.Client client;

  @BeforeAll
  static void trainSaveAndServe() throws Exception {
    ServeFixtures.SavedClassifier sentiment = ServeFixtures.sentimentClassifier();
    model = sentiment.model();
    server = ModelServer.start(ServeSettings.defaults().withAddress("127.0.0.1", 0).withBatching(64, 16), Map.of(),
        Map.of("sentiment", sentiment.dir()), HadoopSettings.defaults()); // loads in Spark as serve does, then stops it
    client = new ServeFixtures.Client(server);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void answersWithTheModelsOwnPredictionAndExplanation() throws Exception {
    ServeFixtures.Reply r = client.post("/v1/classify", Map.of("texts",
        List.of("The food was GREAT, the staff too!", "What an awful room"), "explain", 2));
    assertEquals(200, r.status(), r.raw().body());
    assertEquals("sentiment", r.json().get("model").asText());
    JsonNode first = r.json().get("results").get(0);
    assertEquals(List.of("food", "great", "staff"), strings(first.get("tokens")), "lower-cased, stop words dropped");
    double[] p = model.predictProbabilities(List.of("food", "great", "staff"));
    assertEquals(p[1], first.get("probabilities").get(1).asDouble(), 1e-6);
    assertEquals(1, first.get("label").asInt(), "'great' is a positive word: " + first);
    assertEquals(0, r.json().get("results").get(1).get("label").asInt(), "'awful' is a negative word");
    Explanation e = model.explain(List.of("food", "great", "staff"));
    JsonNode why = first.get("explanation");
    assertEquals("occlusion", why.get("method").asText());
    assertEquals(e.towards(2).get(0).token(), why.get("towards").get(0).get("token").asText());
    assertEquals("great", why.get("towards").get(0).get("token").asText(), why.toString());
    assertEquals(3, why.get("tokens").size());
    JsonNode info = client.get("/v1/models").json().get("models").get(0);
    assertEquals("classifier", info.get("kind").asText());
    assertTrue(info.get("digest").asText().startsWith("sha256:"), info.toString());
  }

  @Test
  void limeExplanationsAreTheModelsAndRepeatAtTheSameSeed() throws Exception {
    Map<String, Object> ask = Map.of("texts", List.of("The food was GREAT, the staff too!"), "explain", 3,
        "method", "lime", "samples", 200, "seed", 7);
    ServeFixtures.Reply a = client.post("/v1/classify", ask);
    ServeFixtures.Reply b = client.post("/v1/classify", ask);
    assertEquals(200, a.status(), a.raw().body());
    JsonNode why = a.json().get("results").get(0).get("explanation");
    assertEquals("lime", why.get("method").asText());
    Explanation e = model.explain(List.of("food", "great", "staff"), ExplanationMethod.lime(200, 7));
    assertEquals(e.towards(1).get(0).token(), why.get("towards").get(0).get("token").asText(), why.toString());
    assertEquals(why, b.json().get("results").get(0).get("explanation"), "the same seed gives the same explanation");
  }

  @Test
  void concurrentRequestsShareForwardsAndGetTheirOwnAnswers() throws Exception {
    List<List<String>> asks = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      asks.add(List.of("the view was " + (i % 3 == 0 ? "lovely" : "horrible"), "room " + i));
    }
    List<JsonNode> alone = new ArrayList<>();
    for (List<String> texts : asks) {
      alone.add(client.post("/v1/classify", Map.of("texts", texts)).json().get("results"));
    }
    double forwardsBefore = GenerationSchedulerTest.metric(client, "ringtrain_serve_classify_forwards_total");
    ExecutorService pool = Executors.newFixedThreadPool(12);
    try {
      List<Future<JsonNode>> together = new ArrayList<>();
      for (List<String> texts : asks) {
        together.add(pool.submit(() -> client.post("/v1/classify", Map.of("texts", texts)).json()));
      }
      for (int i = 0; i < asks.size(); i++) {
        JsonNode shared = together.get(i).get(60, TimeUnit.SECONDS).get("results");
        for (int t = 0; t < 2; t++) {
          JsonNode a = alone.get(i).get(t);
          JsonNode b = shared.get(t);
          assertEquals(a.get("label"), b.get("label"), "request " + i + " text " + t);
          assertEquals(a.get("tokens"), b.get("tokens"));
          for (int k = 0; k < 2; k++) {
            // Rows are independent in the forward up to float rounding (a batch of 24 runs other gemm blocks).
            assertEquals(a.get("probabilities").get(k).asDouble(), b.get("probabilities").get(k).asDouble(), 1e-5,
                "request " + i + " text " + t + " class " + k);
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
    double forwards = GenerationSchedulerTest.metric(client, "ringtrain_serve_classify_forwards_total") - forwardsBefore;
    assertTrue(forwards < asks.size(), "12 requests at once must share forwards, but took " + forwards);
  }

  @Test
  void badClassifyRequestsGetClear4xx() throws Exception {
    expectError(400, "'texts' is required: an array of strings", client.post("/v1/classify", Map.of("explain", 1)));
    expectError(400, "'texts' must hold 1 to 64 strings, but found 0", client.post("/v1/classify", Map.of("texts", List.of())));
    expectError(400, "'texts[1]' must be a string, but found number 3", client.post("/v1/classify",
        Map.of("texts", List.of("ok", 3))));
    expectError(400, "'explain' must be between 0 and 50, but found 51", client.post("/v1/classify",
        Map.of("texts", List.of("ok"), "explain", 51)));
    expectError(400, "'method' must be one of [occlusion, lime], but found 'shap'", client.post("/v1/classify",
        Map.of("texts", List.of("ok"), "method", "shap")));
    expectError(404, "no classifier named 'spam'; served: [sentiment]", client.post("/v1/classify",
        Map.of("texts", List.of("ok"), "model", "spam")));
    expectError(404, "serves no GPT", client.post("/v1/generate", Map.of("prompt", "a")));
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

}
