/*
 * GenerationSchedulerTest: dynamic batching seen from clients of a real server - parallel clients
 * get exactly what each gets alone at the same seed while sharing decode steps, a full queue
 * answers 429 with Retry-After, and a client that leaves mid-stream stops its generation.
 */
package org.ringtrain.driver.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GenerationSchedulerTest {
  @TempDir
  static Path tmp;

  @BeforeAll
  static void writeModel() throws Exception {
    ServeFixtures.writeGpt(tmp.resolve("gpt"), 11);
  }

  private static Map<String, Object> ask(int i) {
    // Prompts of different lengths, so rows sit at different positions in the shared steps.
    return Map.of("prompt", "x".repeat(1 + 3 * i) + " and then", "max_tokens", 10 + i, "temperature", 1.0,
        "top_k", 8, "seed", 100 + i);
  }

  @Test
  void parallelClientsGetWhatEachGetsAloneWhileSharingSteps() throws Exception {
    try (ModelServer server = ServeFixtures.serveGpt(tmp.resolve("gpt"), ServeSettings.defaults().withBatching(8, 16))) {
      ServeFixtures.Client client = new ServeFixtures.Client(server);
      int n = 6;
      List<String> alone = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        alone.add(client.post("/v1/generate", ask(i)).json().get("text").asText());
      }
      double rowsBefore = metric(client, "ringtrain_serve_decode_rows_total");
      double stepsBefore = metric(client, "ringtrain_serve_decode_steps_total");
      ExecutorService pool = Executors.newFixedThreadPool(n);
      try {
        List<Future<String>> together = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          int at = i;
          together.add(pool.submit(() -> client.post("/v1/generate", ask(at)).json().get("text").asText()));
        }
        for (int i = 0; i < n; i++) {
          assertEquals(alone.get(i), together.get(i).get(60, TimeUnit.SECONDS), "request " + i + " (seed " + (100 + i)
              + ") must not depend on its batch");
        }
      } finally {
        pool.shutdownNow();
      }
      double rows = metric(client, "ringtrain_serve_decode_rows_total") - rowsBefore;
      double steps = metric(client, "ringtrain_serve_decode_steps_total") - stepsBefore;
      assertTrue(rows / steps > 1.5, "parallel requests must share decode steps, but a step held " + rows / steps
          + " rows on average");
    }
  }

  @Test
  void aFullQueueAnswers429WithRetryAfter() throws Exception {
    try (ModelServer server = ServeFixtures.serveGpt(tmp.resolve("gpt"), ServeSettings.defaults().withBatching(1, 1))) {
      ServeFixtures.Client client = new ServeFixtures.Client(server);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<ServeFixtures.Reply>> replies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          replies.add(pool.submit(() -> client.post("/v1/generate", Map.of("prompt", "q", "max_tokens", 80))));
        }
        int ok = 0;
        int refused = 0;
        for (Future<ServeFixtures.Reply> f : replies) {
          ServeFixtures.Reply r = f.get(60, TimeUnit.SECONDS);
          if (r.status() == 429) {
            refused++;
            assertEquals("1", r.header("Retry-After"));
            assertTrue(r.json().get("error").get("message").asText().contains("the generate queue is full (1 waiting)"));
          } else {
            assertEquals(200, r.status(), r.raw().body());
            ok++;
          }
        }
        assertTrue(ok >= 1 && refused >= 1, "with one row and one queue place, 8 at once must see 200s and 429s, but "
            + ok + " got 200 and " + refused + " got 429");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aClientThatLeavesMidStreamStopsItsGeneration() throws Exception {
    try (ModelServer server = ServeFixtures.serveGpt(tmp.resolve("gpt"), ServeSettings.defaults())) {
      ServeFixtures.Client client = new ServeFixtures.Client(server);
      String body = "{\"prompt\": \"go\", \"max_tokens\": 250, \"stream\": true}";
      try (Socket socket = new Socket("127.0.0.1", server.port())) {
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        StringBuilder seen = new StringBuilder();
        while (!seen.toString().contains("data: ")) {
          seen.append((char) in.read());
        }
      } // closing the socket mid-stream
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (metric(client, "ringtrain_serve_generations_cancelled_total") < 1 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(1.0, metric(client, "ringtrain_serve_generations_cancelled_total"));
      double tokens = metric(client, "ringtrain_serve_tokens_generated_total");
      assertTrue(tokens < 250, "the generation must stop when its client leaves, but it made " + tokens + " tokens");
    }
  }

  /** The value of an unlabelled metric on /metrics. */
  static double metric(ServeFixtures.Client client, String name) throws Exception {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(client.get("/metrics").raw().body());
    assertTrue(m.find(), "no metric " + name);
    return Double.parseDouble(m.group(1));
  }
}
