/*
 * ServeBench: load on a real `ringtrain serve` server over loopback - generate (tokens/s, time to
 * first token, latency) and classify (texts/s, latency) at concurrency 1, 8 and 32, each with
 * batching (--max-batch 32) and without (--max-batch 1), in one run so the ratios are side by
 * side. Bounded in requests and time per cell. It is a command, not a test; it checks no text.
 */
package org.ringtrain.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.classify.TextClassifier;
import org.ringtrain.driver.classify.TextPipeline;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.launch.SparkJobConf;
import org.ringtrain.driver.serve.ModelServer;
import org.ringtrain.driver.serve.ServeSettings;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.optim.AdamW;

/**
 * Usage: {@code bench/serve.sh [--quick] [--checkpoint-dir DIR] [--model-dir DIR] [--tokens N]
 * [--requests N] [--seconds S] [--levels 1,8,32] [--routes generate,classify]}.
 *
 * <p>Without --checkpoint-dir it writes a seeded GPT (default context 256, width 384, 6 layers,
 * 6 heads, byte tokenizer: 10.7M parameters; throughput does not depend on training); without
 * --model-dir it trains the default classifier pipeline on 800 sentences of
 * data/sentiment/sentences.jsonl for one epoch. Each cell runs up to max(--requests, 2 x concurrency) requests or --seconds, whichever
 * ends first; generate requests stream (time to first token is the first event's arrival).
 * {@code --routes generate} (default both) measures generation alone: no classifier is trained or
 * served, which keeps a run on a loaded machine short.
 */
public final class ServeBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(300);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ServeBench() {
  }

  /** One cell's measurements. */
  private record Cell(int done, int refused, double seconds, double units, double[] latencyMs, double[] ttftMs) {
    double throughput() {
      return units / seconds;
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new LinkedHashMap<>(Map.of("--tokens", "64", "--requests", "48", "--seconds", "60",
        "--levels", "1,8,32", "--width", "384", "--layers", "6", "--context", "256", "--routes", "generate,classify"));
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--quick")) {
        opt.put("--requests", "16");
        opt.put("--seconds", "20");
        opt.put("--tokens", "32");
      } else if (args[i].equals("--help") || i + 1 >= args.length || !args[i].startsWith("--")) {
        System.out.println("usage: bench/serve.sh [--quick] [--checkpoint-dir DIR] [--model-dir DIR] [--tokens N]"
            + " [--requests N] [--seconds S] [--levels 1,8,32] [--width 384] [--layers 6] [--context 256]"
            + " [--routes generate,classify]");
        System.exit(args[i].equals("--help") ? 0 : 2);
      } else {
        opt.put(args[i], args[++i]);
      }
    }
    List<String> routes = routes(opt.get("--routes"));
    Path work = Files.createTempDirectory(Path.of("bench/target/tmp"), "serve");
    boolean generate = routes.contains("generate");
    boolean classify = routes.contains("classify");
    Map<String, String> gpts = !generate ? Map.of()
        : Map.of("gpt", opt.containsKey("--checkpoint-dir") ? opt.get("--checkpoint-dir")
            : writeGpt(work.resolve("gpt"), Integer.parseInt(opt.get("--width")), Integer.parseInt(opt.get("--layers")),
                Integer.parseInt(opt.get("--context"))));
    Map<String, String> classifiers = !classify ? Map.of()
        : Map.of("cls", opt.containsKey("--model-dir") ? opt.get("--model-dir") : trainClassifier(work));
    int tokens = Integer.parseInt(opt.get("--tokens"));
    int requests = Integer.parseInt(opt.get("--requests"));
    double seconds = Double.parseDouble(opt.get("--seconds"));
    int[] levels = Arrays.stream(opt.get("--levels").split(",")).mapToInt(Integer::parseInt).toArray();
    Map<String, Cell> cells = new LinkedHashMap<>();
    for (int maxBatch : new int[] {32, 1}) {
      ServeSettings settings = ServeSettings.defaults().withAddress("127.0.0.1", 0).withBatching(maxBatch, 256);
      try (ModelServer server = ModelServer.start(settings, gpts, classifiers, HadoopSettings.defaults())) {
        String base = "http://127.0.0.1:" + server.port();
        Map<String, Request> byRoute = new LinkedHashMap<>();
        if (generate) {
          byRoute.put("generate", i -> generate(base, tokens, i));
        }
        if (classify) {
          byRoute.put("classify", i -> classify(base, i));
        }
        for (Request request : byRoute.values()) {
          run(base, 8, 16, seconds, request); // warm-up: JIT, first allocations
        }
        String mode = maxBatch > 1 ? "batched" : "unbatched";
        for (int c : levels) {
          for (Map.Entry<String, Request> route : byRoute.entrySet()) {
            String name = route.getKey() + " " + mode + " c" + c;
            cells.put(name, run(base, c, Math.max(requests, 2 * c), seconds, route.getValue()));
            System.err.println(name + " done: " + summary(cells.get(name)));
          }
        }
      }
    }
    report(cells, levels, tokens, routes);
  }

  /** The --routes value as a list of generate and classify, or exit 2 with what is wrong. */
  private static List<String> routes(String value) {
    List<String> routes = Arrays.stream(value.split(",")).map(String::trim).filter(r -> !r.isEmpty()).toList();
    if (routes.isEmpty() || !List.of("generate", "classify").containsAll(routes)) {
      System.err.println("serve.sh: --routes expects generate, classify or both (comma-separated), but found '" + value
          + "'; e.g. --routes generate");
      System.exit(2);
    }
    return routes;
  }

  /** One request's result: units done (tokens or texts), latency and time to first token in ms. */
  private record One(int status, double units, double latencyMs, double ttftMs) {
  }

  private interface Request {
    One send(int index) throws Exception;
  }

  private static Cell run(String base, int concurrency, int total, double seconds, Request request) throws Exception {
    AtomicInteger next = new AtomicInteger();
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    List<Future<List<One>>> workers = new ArrayList<>();
    long start = System.nanoTime();
    for (int w = 0; w < concurrency; w++) {
      workers.add(pool.submit(() -> {
        List<One> mine = new ArrayList<>();
        for (int i = next.getAndIncrement(); i < total && System.nanoTime() < deadline; i = next.getAndIncrement()) {
          try {
            mine.add(request.send(i));
          } catch (java.net.http.HttpTimeoutException e) {
            mine.add(new One(0, 0, REQUEST_TIMEOUT.toMillis(), -1)); // counted under 429/err, the run goes on
          }
        }
        return mine;
      }));
    }
    List<One> all = new ArrayList<>();
    for (Future<List<One>> f : workers) {
      all.addAll(f.get());
    }
    double wall = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    List<One> ok = all.stream().filter(o -> o.status() == 200).toList();
    return new Cell(ok.size(), all.size() - ok.size(), wall, ok.stream().mapToDouble(One::units).sum(),
        ok.stream().mapToDouble(One::latencyMs).sorted().toArray(),
        ok.stream().mapToDouble(One::ttftMs).filter(t -> t >= 0).sorted().toArray());
  }

  private static One generate(String base, int tokens, int i) throws Exception {
    String body = JSON.writeValueAsString(Map.of("prompt", "Call me Ishmael. Some years ago " + i, "max_tokens", tokens,
        "temperature", 0.8, "top_k", 40, "seed", i, "stream", true));
    long start = System.nanoTime();
    HttpResponse<Stream<String>> r = HTTP.send(post(base + "/v1/generate", body), HttpResponse.BodyHandlers.ofLines());
    double[] ttft = {-1};
    double[] count = {0};
    r.body().forEach(line -> {
      if (line.startsWith("data: ")) {
        if (ttft[0] < 0) {
          ttft[0] = (System.nanoTime() - start) / 1e6;
        }
        if (line.contains("\"completion_tokens\"")) {
          try {
            count[0] = JSON.readTree(line.substring(6)).get("completion_tokens").asDouble();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
      }
    });
    return new One(r.statusCode(), count[0], (System.nanoTime() - start) / 1e6, ttft[0]);
  }

  private static One classify(String base, int i) throws Exception {
    List<String> texts = List.of("The food was great and the staff lovely " + i, "Awful service, cold soup " + i,
        "Not bad at all, would come back " + i, "The room was dirty and the view horrible " + i);
    long start = System.nanoTime();
    HttpResponse<String> r = HTTP.send(post(base + "/v1/classify", JSON.writeValueAsString(Map.of("texts", texts))),
        HttpResponse.BodyHandlers.ofString());
    return new One(r.statusCode(), texts.size(), (System.nanoTime() - start) / 1e6, -1);
  }

  private static HttpRequest post(String url, String body) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  private static void report(Map<String, Cell> cells, int[] levels, int tokens, List<String> routes) {
    System.out.printf(Locale.ROOT, "%-26s %6s %7s %12s %10s %10s %10s %10s%n", "cell", "ok", "429/err", "throughput",
        "p50 ms", "p99 ms", "ttft p50", "ttft p99");
    cells.forEach((name, c) -> System.out.printf(Locale.ROOT, "%-26s %6d %7d %9.1f %s %10.1f %10.1f %10s %10s%n", name,
        c.done(), c.refused(), c.throughput(), name.startsWith("generate") ? "t/s" : "x/s", pct(c.latencyMs(), 50),
        pct(c.latencyMs(), 99), c.ttftMs().length == 0 ? "-" : String.format(Locale.ROOT, "%.1f", pct(c.ttftMs(), 50)),
        c.ttftMs().length == 0 ? "-" : String.format(Locale.ROOT, "%.1f", pct(c.ttftMs(), 99))));
    System.out.println("(throughput: generate in tokens/s of " + tokens + "-token completions, classify in texts/s)");
    for (String kind : routes) {
      Cell one = cells.get(kind + " batched c1");
      for (int c : levels) {
        Cell batched = cells.get(kind + " batched c" + c);
        Cell unbatched = cells.get(kind + " unbatched c" + c);
        System.out.printf(Locale.ROOT, "%s c%d: batched / c1 = %.2fx, batched / unbatched = %.2fx%n", kind, c,
            batched.throughput() / one.throughput(), batched.throughput() / unbatched.throughput());
      }
    }
  }

  /** One cell as a progress line, so that a run cut short still shows what it measured. */
  private static String summary(Cell c) {
    return String.format(Locale.ROOT, "%d ok, %d refused or timed out, %.1f units/s, p50 %.0f ms", c.done(), c.refused(),
        c.throughput(), pct(c.latencyMs(), 50));
  }

  private static double pct(double[] sorted, int p) {
    return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  /** A seeded GPT (byte tokenizer, 64-wide heads) as a step-1 checkpoint. */
  private static String writeGpt(Path dir, int width, int layers, int context) throws Exception {
    TrainConfig cfg = TrainConfig.fromLayers(Map.of("contextLength", context, "dModel", width, "layers", layers,
        "heads", Math.max(1, width / 64), "input", "unused.txt", "checkpointDir", dir.toString()));
    try (GptModel model = GptModel.initialised(cfg.modelConfig(256), 1337)) {
      AdamW adam = new AdamW(model.layout());
      adam.step(model.params().flat(), Nd4j.zerosLike(model.params().flat()), 0.0);
      new CheckpointStore(HadoopSettings.defaults(), dir.toString()).write(
          new TrainingState(1, 0, 0, 1337, cfg.toJson(), "byte"), model.layout(), model.params().flat(), adam);
    }
    return dir.toString();
  }

  /** The default classifier pipeline, one epoch on the shipped sentiment corpus, saved under {@code work}. */
  private static String trainClassifier(Path work) {
    String dir = work.resolve("classifier").toString();
    try (SparkJob job = SparkJobConf.of("bench serve: classifier", 1).start()) {
      // Throughput does not depend on accuracy: a quarter of the corpus, one epoch.
      Dataset<Row> data = job.session().read().json("data/sentiment/sentences.jsonl").limit(800);
      TextClassifier classifier = new TextClassifier().setEpochs(1).setWorldSize(1)
          .setCheckpointDir(work.resolve("classifier-ck").toString());
      PipelineModel model = TextPipeline.of("text", classifier).fit(data);
      model.write().save(dir);
    } catch (Exception e) {
      throw new IllegalStateException("training the bench classifier failed: " + e.getMessage(), e);
    }
    return dir;
  }
}
