/*
 * ServeFixtures: what the serve tests share - a tiny GPT checkpoint written to a temp directory,
 * a tiny sentiment classifier trained in Spark local mode and saved as `train-classifier` saves
 * it, a server started on an ephemeral loopback port, and a real HTTP client whose every response is
 * checked against serve/openapi.json. Test code only; it holds no state between tests.
 */
package org.ringtrain.driver.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.classify.TextClassificationModel;
import org.ringtrain.driver.classify.TextClassifier;
import org.ringtrain.driver.classify.TextPipeline;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.optim.AdamW;

final class ServeFixtures {
  static final ObjectMapper JSON = new ObjectMapper();
  /** Context 256, width 32, 2 layers, 2 heads, byte vocabulary: about 42k parameters. */
  static final Map<String, Object> SHAPE = Map.of("contextLength", 256, "dModel", 32, "layers", 2, "heads", 2);

  private ServeFixtures() {
  }

  /** Writes a checkpoint (step 1) of a seeded, untrained tiny GPT under {@code dir}; returns its config. */
  static ModelConfig writeGpt(Path dir, long seed) throws IOException {
    TrainConfig cfg = TrainConfig.fromLayers(SHAPE, Map.of("input", "unused.txt", "checkpointDir", dir.toString()));
    ModelConfig shape = cfg.modelConfig(256);
    try (GptModel model = GptModel.initialised(shape, seed)) {
      AdamW adam = new AdamW(model.layout());
      adam.step(model.params().flat(), Nd4j.zerosLike(model.params().flat()), 0.0);
      new CheckpointStore(HadoopSettings.defaults(), dir.toString()).write(
          new TrainingState(1, 0, 0, seed, cfg.toJson(), "byte"), model.layout(), model.params().flat(), adam);
    }
    return shape;
  }

  /** A classifier pipeline saved as train-classifier saves it, and its trained model stage. */
  record SavedClassifier(String dir, TextClassificationModel model) {
  }

  private static SavedClassifier sentiment;

  /**
   * A tiny transformer sentiment classifier (one word of eight decides each of 48 texts' label),
   * trained in Spark local[1] and saved once per test JVM: the serve test classes share it, since
   * the training is most of their Spark time. It lies in a directory under java.io.tmpdir (the
   * module's target/tmp in surefire) that is kept until the build directory is cleaned. When this
   * call trains it, the SparkSession stays open for the server, whose classifier loading stops it.
   */
  static synchronized SavedClassifier sentimentClassifier() throws IOException {
    if (sentiment == null) {
      Path dir = Files.createTempDirectory("serve-sentiment");
      PipelineModel pipeline = saveClassifier(dir.resolve("ck"), dir.resolve("sentiment").toString());
      sentiment = new SavedClassifier(dir.resolve("sentiment").toString(),
          (TextClassificationModel) pipeline.stages()[2]);
    }
    return sentiment;
  }

  private static PipelineModel saveClassifier(Path checkpoints, String dir) throws IOException {
    SparkSession spark = SparkSession.builder().master("local[1]").appName("serve tests")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1").getOrCreate();
    List<Row> rows = new ArrayList<>();
    String[] good = {"great", "good", "lovely", "superb"};
    String[] bad = {"awful", "bad", "horrible", "dreadful"};
    String[] filler = {"food", "service", "room", "staff", "view"};
    for (int i = 0; i < 48; i++) {
      boolean positive = i % 2 == 0;
      String word = (positive ? good : bad)[i / 2 % 4];
      rows.add(RowFactory.create("The " + filler[i % 5] + " was " + word + " and the " + filler[(i + 2) % 5] + " too",
          positive ? 1.0 : 0.0));
    }
    Dataset<Row> data = spark.createDataFrame(rows, new StructType().add("text", DataTypes.StringType)
        .add("label", DataTypes.DoubleType));
    TextClassifier classifier = new TextClassifier().setArchitecture("transformer").setD(16).setLayers(1).setHeads(2)
        .setMaxLen(12).setMinCount(1).setVocabSize(100).setEpochs(8).setBatchSize(16).setLr(1e-2).setWorldSize(1)
        .setSeed(3).setCheckpointDir(checkpoints.toString());
    PipelineModel pipeline = TextPipeline.of("text", classifier).fit(data);
    pipeline.write().save(dir);
    return pipeline;
  }

  /** A server on 127.0.0.1, any free port, serving the GPT in {@code gptDir} as "tiny". */
  static ModelServer serveGpt(Path gptDir, ServeSettings settings) throws Exception {
    return ModelServer.start(settings.withAddress("127.0.0.1", 0), Map.of("tiny", gptDir.toString()), Map.of(),
        HadoopSettings.defaults());
  }

  /** A response: status, headers and body, already checked against the OpenAPI document. */
  record Reply(int status, HttpResponse<String> raw, JsonNode json) {
    String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }
  }

  /** A real HTTP client for one server, validating every JSON response against the OpenAPI document. */
  static final class Client {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String apiKey;

    Client(ModelServer server) {
      this(server, null);
    }

    Client(ModelServer server, String apiKey) {
      this.base = "http://127.0.0.1:" + server.port();
      this.apiKey = apiKey;
    }

    Reply get(String path) throws Exception {
      return send("GET", path, null);
    }

    Reply post(String path, Object body) throws Exception {
      return send("POST", path, body instanceof String s ? s : JSON.writeValueAsString(body));
    }

    Reply send(String method, String path, String body) throws Exception {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      if (body != null) {
        b.header("Content-Type", "application/json");
      }
      if (apiKey != null) {
        b.header("Authorization", "Bearer " + apiKey);
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      String type = r.headers().firstValue("Content-Type").orElse("");
      JsonNode json = null;
      if (type.startsWith("application/json")) {
        json = JSON.readTree(r.body());
        OpenApiResponses.check(method, path, r.statusCode(), "application/json", json);
      } else if (type.startsWith("text/event-stream")) {
        for (JsonNode event : events(r.body())) {
          OpenApiResponses.check(method, path, r.statusCode(), "text/event-stream", event);
        }
      }
      return new Reply(r.statusCode(), r, json);
    }
  }

  /** Fails unless {@code r} is a {@code status} error whose message contains {@code message}. */
  static void expectError(int status, String message, Reply r) {
    assertEquals(status, r.status(), r.raw().body());
    String said = r.json().get("error").get("message").asText();
    assertTrue(said.contains(message), "expected a message with '" + message + "', found: " + said);
  }

  /** The data of every event in a server-sent event stream, in order. */
  static List<JsonNode> events(String stream) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String frame : stream.split("\n\n")) {
      for (String line : frame.split("\n")) {
        if (line.startsWith("data: ")) {
          out.add(JSON.readTree(line.substring(6)));
        }
      }
    }
    return out;
  }
}
