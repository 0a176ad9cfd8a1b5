/*
 * ServeWeightsTest: serve --weights against a real server on an ephemeral port - an int8 model
 * from `quantize` (with float and with int8 embeddings) and a Hugging Face GPT-2 file from
 * `export`, each answering concurrent requests (so rows share batched decode steps on the int8
 * matmuls) with the text `generate --weights` gives at the same seed, and a name given to both
 * --checkpoint-dir and --weights refused. Routes and batching themselves are in GenerateRouteTest
 * and GenerationSchedulerTest.
 */
package org.ringtrain.driver.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
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
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.InferenceGpt;
import org.ringtrain.driver.gpt.QuantizedGpt;
import org.ringtrain.driver.gpt.TrainedGpt;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServeWeightsTest {
  private static final HadoopSettings LOCAL = HadoopSettings.defaults();
  private static final String[] PROMPTS = {"Call me Ishmael.", "The sea", "x", "Whale ho! "};

  @TempDir
  static Path tmp;
  private static Map<String, String> files;
  private static ModelServer server;
  private static ServeFixtures.Client client;

  @BeforeAll
  static void start() throws Exception {
    Path run = tmp.resolve("run");
    ServeFixtures.writeGpt(run, 7);
    String int8 = tmp.resolve("tiny-int8.safetensors").toString();
    String int8e = tmp.resolve("tiny-int8-emb.safetensors").toString();
    QuantizedGpt.quantize(run.toString(), int8, false, LOCAL);
    QuantizedGpt.quantize(run.toString(), int8e, true, LOCAL);
    String hf = TrainedGpt.load(run.toString(), LOCAL).export(tmp.resolve("hf")).toString();
    files = Map.of("int8", int8, "int8e", int8e, "hf", hf);
    server = ModelServer.start(ServeSettings.defaults().withAddress("127.0.0.1", 0), Map.of(), files, Map.of(), LOCAL);
    client = new ServeFixtures.Client(server);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void concurrentRequestsGetWhatGenerateWeightsGivesAtTheSameSeed() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(PROMPTS.length);
    try {
      for (Map.Entry<String, String> model : files.entrySet()) {
        InferenceGpt cli = InferenceGpt.loadWeights(model.getValue(), LOCAL);
        List<Future<JsonNode>> replies = new ArrayList<>();
        for (int i = 0; i < PROMPTS.length; i++) {
          Map<String, Object> ask = Map.of("model", model.getKey(), "prompt", PROMPTS[i], "max_tokens", 30,
              "temperature", 0.9, "top_k", 20, "seed", 40 + i);
          replies.add(pool.submit(() -> {
            ServeFixtures.Reply r = client.post("/v1/generate", ask);
            assertEquals(200, r.status(), r.raw().body());
            return r.json();
          }));
        }
        for (int i = 0; i < PROMPTS.length; i++) {
          String expected = cli.generate(PROMPTS[i], 30, 0.9, 20, 40 + i).substring(PROMPTS[i].length());
          assertEquals(expected, replies.get(i).get(60, TimeUnit.SECONDS).get("text").asText(),
              model.getKey() + ", prompt " + i);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void modelsListTheFilesWithTheirDigests() throws Exception {
    JsonNode models = client.get("/v1/models").json().get("models");
    assertEquals(3, models.size(), models.toString());
    for (JsonNode m : models) {
      String name = m.get("name").asText();
      assertTrue(m.get("source").asText().endsWith(Path.of(files.get(name)).getFileName().toString()), m.toString());
      assertEquals(InferenceGpt.loadWeights(files.get(name), LOCAL).digest(), m.get("digest").asText());
    }
  }

  @Test
  void aNameGivenToBothACheckpointAndAFileIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelServer.start(
        ServeSettings.defaults().withAddress("127.0.0.1", 0), Map.of("gpt", tmp.resolve("run").toString()),
        Map.of("gpt", files.get("int8")), Map.of(), LOCAL));
    assertTrue(e.getMessage().contains("GPT name 'gpt' is given to both --checkpoint-dir and --weights"),
        e.getMessage());
  }
}
