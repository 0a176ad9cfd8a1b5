/*
 * GenerateRouteTest: POST /v1/generate and the read-only endpoints against a real server on an
 * ephemeral port with a tiny GPT - results, streaming order and completeness, agreement with the
 * generate command at the same seed, and every bad input the route refuses. Concurrency and
 * shutdown are in GenerationSchedulerTest and ModelServerTest.
 */
package org.ringtrain.driver.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.driver.serve.ServeFixtures.expectError;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.TrainedGpt;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GenerateRouteTest {
  @TempDir
  static Path tmp;
  private static ModelServer server;
  private static ServeFixtures.Client client;

  @BeforeAll
  static void start() throws Exception {
    ServeFixtures.writeGpt(tmp.resolve("gpt"), 5);
    server = ServeFixtures.serveGpt(tmp.resolve("gpt"), ServeSettings.defaults().withLimits(100, 2000, 4096, 2000));
    client = new ServeFixtures.Client(server);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void readOnlyEndpointsAnswerAsDocumented() throws Exception {
    assertEquals("ok", client.get("/healthz").json().get("status").asText());
    assertEquals("ready", client.get("/readyz").json().get("status").asText());
    JsonNode model = client.get("/v1/models").json().get("models").get(0);
    assertEquals("tiny", model.get("name").asText());
    assertEquals("byte", model.get("tokenizer").asText());
    assertEquals(1, model.get("step").asInt());
    assertEquals(256, model.get("shape").get("context_length").asInt());
    assertTrue(model.get("digest").asText().startsWith("sha256:"), model.toString());
    assertEquals("3.1.0", client.get("/openapi.json").json().get("openapi").asText());
    ServeFixtures.Reply page = client.get("/");
    assertEquals(200, page.status());
    assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
    assertTrue(page.raw().body().contains("fetch('/v1/generate'"), "the page calls the API");
    client.post("/v1/generate", Map.of("prompt", "Hi", "max_tokens", 3));
    String metrics = client.get("/metrics").raw().body();
    for (String name : List.of("ringtrain_serve_requests_total{code=\"200\",route=\"generate\"}",
        "ringtrain_serve_request_duration_seconds_bucket", "ringtrain_serve_tokens_generated_total",
        "ringtrain_serve_queue_depth{queue=\"generate_tiny\"}", "ringtrain_serve_decode_steps_total")) {
      assertTrue(metrics.contains(name), "metrics lack " + name + ":\n" + metrics);
    }
  }

  @Test
  void generatesWhatTheGenerateCommandGivesAtTheSameSeed() throws Exception {
    String prompt = "Call me Ishmael.";
    ServeFixtures.Reply r = client.post("/v1/generate", Map.of("prompt", prompt, "max_tokens", 40, "temperature", 0.9,
        "top_k", 20, "seed", 99));
    assertEquals(200, r.status());
    assertEquals(16, r.json().get("prompt_tokens").asInt());
    assertEquals(40, r.json().get("completion_tokens").asInt());
    String cli = TrainedGpt.load(tmp.resolve("gpt").toString(), HadoopSettings.defaults()).generate(prompt, 40, 0.9, 20, 99);
    assertEquals(cli.substring(prompt.length()), r.json().get("text").asText());
  }

  @Test
  void streamedPiecesConcatenateToTheUnstreamedText() throws Exception {
    for (long seed : new long[] {1, 2, 3}) {
      Map<String, Object> ask = Map.of("prompt", "The sea", "max_tokens", 60, "temperature", 1.5, "top_k", 0,
          "seed", seed);
      String whole = client.post("/v1/generate", ask).json().get("text").asText();
      Map<String, Object> streamed = new java.util.HashMap<>(ask);
      streamed.put("stream", true);
      ServeFixtures.Reply r = client.post("/v1/generate", streamed);
      assertEquals(200, r.status());
      assertTrue(r.header("Content-Type").startsWith("text/event-stream"), r.header("Content-Type"));
      List<JsonNode> events = ServeFixtures.events(r.raw().body());
      StringBuilder pieces = new StringBuilder();
      for (JsonNode e : events.subList(0, events.size() - 1)) {
        pieces.append(e.get("text").asText());
      }
      JsonNode done = events.get(events.size() - 1);
      assertTrue(r.raw().body().contains("event: done\n"), "the stream must end with a done event");
      assertEquals(whole, pieces.toString(), "seed " + seed + ": the pieces, in order, are the text");
      assertEquals(whole, done.get("text").asText());
      assertEquals(60, done.get("completion_tokens").asInt());
      assertTrue(events.size() > 10, "tokens must arrive as they are made, but found " + events.size() + " events");
    }
  }

  @Test
  void badRequestsGetClear4xx() throws Exception {
    expectError(400, "not valid JSON", client.post("/v1/generate", "{\"prompt\": \"a\""));
    expectError(400, "must be a JSON object", client.post("/v1/generate", "[1, 2]"));
    expectError(400, "'prompt' is required", client.post("/v1/generate", Map.of("max_tokens", 3)));
    expectError(400, "'prompt' must be a string, but found number 7", client.post("/v1/generate", Map.of("prompt", 7)));
    expectError(400, "'max_tokens' must be an integer", client.post("/v1/generate", Map.of("prompt", "a", "max_tokens", "5")));
    expectError(400, "'stream' must be true or false", client.post("/v1/generate", Map.of("prompt", "a", "stream", "yes")));
    expectError(400, "'temperature' must be a finite number >= 0", client.post("/v1/generate",
        Map.of("prompt", "a", "temperature", -1)));
    expectError(400, "'prompt' must hold 1 to 2000 characters, but found 0", client.post("/v1/generate", Map.of("prompt", "")));
    expectError(400, "but found 2001; shorten it", client.post("/v1/generate", Map.of("prompt", "x".repeat(2001))));
    expectError(400, "'max_tokens' must be between 1 and 100, but found 101", client.post("/v1/generate",
        Map.of("prompt", "a", "max_tokens", 101)));
    expectError(400, "more than the model's context of 256 tokens", client.post("/v1/generate",
        Map.of("prompt", "y".repeat(200), "max_tokens", 60)));
    expectError(400, "unknown field 'max_token'", client.post("/v1/generate", Map.of("prompt", "a", "max_token", 5)));
    expectError(404, "no GPT named 'big'; served: [tiny]", client.post("/v1/generate", Map.of("prompt", "a", "model", "big")));
    expectError(404, "serves no classifier", client.post("/v1/classify", Map.of("texts", List.of("a"))));
    expectError(413, "at most 4096 bytes, but found", client.post("/v1/generate", Map.of("prompt", "z".repeat(5000))));
    expectError(405, "takes POST, but found GET", client.get("/v1/generate"));
    expectError(404, "no endpoint GET /v2/generate", client.get("/v2/generate"));
    String metrics = client.get("/metrics").raw().body();
    assertTrue(metrics.contains("ringtrain_serve_errors_total{code=\"400\"}"), metrics);
    assertEquals(200, client.post("/v1/generate", Map.of("prompt", "still fine", "max_tokens", 2)).status());
  }

}
