/*
 * ModelServerTest: the server's lifecycle and protections against a real client - graceful
 * shutdown finishes requests in flight and refuses new ones, the API key guards the API, a
 * slow-drip client is cut off, and a server without models is refused with a hint.
 */
package org.ringtrain.driver.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.runtime.Nd4jRuntime;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ModelServerTest {
  @TempDir
  static Path tmp;

  @BeforeAll
  static void writeModel() throws Exception {
    ServeFixtures.writeGpt(tmp.resolve("gpt"), 3);
  }

  @Test
  void shutdownFinishesRequestsInFlightAndThenRefusesNewOnes() throws Exception {
    ModelServer server = ServeFixtures.serveGpt(tmp.resolve("gpt"), ServeSettings.defaults().withShutdownGrace(30_000));
    ServeFixtures.Client client = new ServeFixtures.Client(server);
    CompletableFuture<ServeFixtures.Reply> inFlight = CompletableFuture.supplyAsync(() -> {
      try {
        return client.post("/v1/generate", Map.of("prompt", "long", "max_tokens", 100, "stream", true));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (GenerationSchedulerTest.metric(client, "ringtrain_serve_tokens_generated_total") < 1
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    server.close();
    ServeFixtures.Reply r = inFlight.get(60, TimeUnit.SECONDS);
    assertEquals(200, r.status());
    List<JsonNode> events = ServeFixtures.events(r.raw().body());
    assertEquals(100, events.get(events.size() - 1).get("completion_tokens").asInt(),
        "the request in flight must finish whole");
    assertThrows(IOException.class, () -> client.get("/healthz"), "a stopped server must accept no connection");
  }

  @Test
  void theApiKeyGuardsTheApiButNotTheProbes() throws Exception {
    Path keyFile = tmp.resolve("key.txt");
    Files.writeString(keyFile, "s3cret-key-42\n");
    ServeSettings settings = ServeSettings.defaults().withApiKeyFile(keyFile);
    assertFalse(settings.toString().contains("s3cret"), settings.toString());
    try (ModelServer server = ServeFixtures.serveGpt(tmp.resolve("gpt"), settings)) {
      ServeFixtures.Reply none = new ServeFixtures.Client(server).get("/v1/models");
      assertEquals(401, none.status());
      assertTrue(none.json().get("error").get("message").asText().contains("Authorization: Bearer KEY"));
      assertFalse(none.raw().body().contains("s3cret"));
      assertEquals(401, new ServeFixtures.Client(server, "s3cret-key-4").get("/v1/models").status());
      assertEquals(401, new ServeFixtures.Client(server, "s3cret-key-42x").post("/v1/generate",
          Map.of("prompt", "a")).status());
      ServeFixtures.Client keyed = new ServeFixtures.Client(server, "s3cret-key-42");
      assertEquals(200, keyed.get("/v1/models").status());
      assertEquals(200, keyed.post("/v1/generate", Map.of("prompt", "a", "max_tokens", 2)).status());
      assertEquals(200, new ServeFixtures.Client(server).get("/healthz").status());
      assertEquals(200, new ServeFixtures.Client(server).get("/readyz").status());
    }
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> ServeSettings.defaults().withApiKeyFile(Files.writeString(tmp.resolve("empty.txt"), "\n")));
    assertTrue(empty.getMessage().contains("is empty; write the key on its first line"), empty.getMessage());
  }

  @Test
  void aSlowDripClientIsCutOffWith408() throws Exception {
    ServeSettings settings = ServeSettings.defaults().withLimits(64, 1000, 4096, 1000);
    try (ModelServer server = ServeFixtures.serveGpt(tmp.resolve("gpt"), settings);
         Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: 200\r\n\r\n{\"prompt\": \"").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      long start = System.nanoTime();
      CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> {
        try {
          InputStream in = socket.getInputStream();
          return new String(in.readNBytes(12), StandardCharsets.US_ASCII);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      for (int i = 0; i < 60 && !answer.isDone(); i++) {
        Thread.sleep(250); // a byte every 250 ms: never silent for the 1 s timeout, yet never done
        try {
          out.write('a');
          out.flush();
        } catch (IOException closed) {
          break;
        }
      }
      assertEquals("HTTP/1.1 408", answer.get(20, TimeUnit.SECONDS));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(seconds < 10, "the drip must be cut off near the 1 s read timeout, but took " + seconds + " s");
    }
  }

  @Test
  void theModelsRunOnTheConfiguredBlasThreads() throws Exception {
    Nd4jRuntime.Threads before = Nd4jRuntime.currentThreads();
    try (ModelServer server = ServeFixtures.serveGpt(tmp.resolve("gpt"), ServeSettings.defaults().withComputeThreads(2))) {
      assertEquals(2, Nd4jRuntime.currentThreads().blas(), "--threads sets the BLAS threads of the decode step");
      assertEquals(1, Nd4jRuntime.currentThreads().ops(), "libnd4j's op pool runs on one thread");
    } finally {
      Nd4jRuntime.useThreads(before);
    }
    assertEquals(1, ServeSettings.defaults().computeThreads(), "one BLAS thread by default (docs/serving.md)");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ServeSettings.defaults().withComputeThreads(0));
    assertTrue(e.getMessage().contains("computeThreads") && e.getMessage().contains("found 0"), e.getMessage());
  }

  @Test
  void aServerWithoutModelsIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelServer.start(ServeSettings.defaults(), Map.of(), Map.of(), HadoopSettings.defaults()));
    assertTrue(e.getMessage().contains("give --checkpoint-dir DIR"), e.getMessage());
  }
}
