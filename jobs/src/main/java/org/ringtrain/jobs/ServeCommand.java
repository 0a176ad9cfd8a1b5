// `ringtrain serve`: an HTTP API (and a page) in front of a trained GPT and/or saved text
// classifiers. Thin: parse flags, build ServeSettings, start the driver's ModelServer, stop it on
// SIGTERM. The server, batching and endpoints are in driver.serve.
package org.ringtrain.jobs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.ringtrain.driver.launch.SparkJobConf;
import org.ringtrain.driver.serve.ModelServer;
import org.ringtrain.driver.serve.ServeSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Serves models over HTTP until SIGTERM (or Ctrl-C), then finishes requests in flight.
 *
 * <pre>
 * java -cp ringtrain-jobs.jar:$SPARK_HOME/jars/* org.ringtrain.jobs.RingtrainCli serve \
 *     --checkpoint-dir hdfs:///runs/moby1 --model-dir sentiment=hdfs:///models/sentiment --host 0.0.0.0
 * </pre>
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve a GPT (POST /v1/generate) and/or text classifiers (POST /v1/classify) over HTTP; "
        + "the API is described at /openapi.json, a page to try it at /.",
    footer = {"", "Examples:",
        "  ringtrain serve --checkpoint-dir target/runs/moby --port 8080",
        "  ringtrain serve --weights moby-int8=target/moby-int8.safetensors # int8 (ringtrain quantize)",
        "  ringtrain serve --model-dir sentiment=target/models/sentiment --model-dir spam=target/models/spam",
        "  ringtrain serve --checkpoint-dir target/runs/moby --host 0.0.0.0 --api-key-file /etc/ringtrain/key",
        "  curl -s localhost:8080/v1/generate -d '{\"prompt\": \"Call me\", \"max_tokens\": 50}'"})
final class ServeCommand implements Callable<Integer> {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");

  @Option(names = "--checkpoint-dir", description = "a GPT run's checkpoint directory, as DIR (served as 'gpt') or "
      + "NAME=DIR; repeatable")
  List<String> checkpointDirs = new ArrayList<>();

  @Option(names = "--weights", description = "a GPT weights file, as FILE (served as 'gpt') or NAME=FILE: a Hugging"
      + " Face GPT-2 safetensors file (config.json beside it) or an int8 model from `ringtrain quantize` (served on"
      + " its int8 weights); repeatable, names distinct from --checkpoint-dir's")
  List<String> weightFiles = new ArrayList<>();

  @Option(names = "--model-dir", description = "a classifier saved by train-classifier, as NAME=DIR or DIR (named after "
      + "its last path part); repeatable")
  List<String> modelDirs = new ArrayList<>();

  @Option(names = "--host", defaultValue = ServeSettings.DEFAULT_HOST,
      description = "address to bind; 0.0.0.0 for every interface (default ${DEFAULT-VALUE})")
  String host;

  @Option(names = "--port", defaultValue = "" + ServeSettings.DEFAULT_PORT,
      description = "port to bind, 0 = any free port (default ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--max-batch", defaultValue = "" + ServeSettings.DEFAULT_MAX_BATCH,
      description = "most requests sharing a decode step / texts per classify forward; 1 = no batching (default ${DEFAULT-VALUE})")
  int maxBatch;

  @Option(names = "--queue", defaultValue = "" + ServeSettings.DEFAULT_QUEUE_CAPACITY,
      description = "requests that may wait per model before new ones get 429 (default ${DEFAULT-VALUE})")
  int queue;

  @Option(names = "--max-tokens", defaultValue = "" + ServeSettings.DEFAULT_MAX_TOKENS,
      description = "most tokens one generate request may ask for (default ${DEFAULT-VALUE})")
  int maxTokens;

  @Option(names = "--max-prompt-chars", defaultValue = "" + ServeSettings.DEFAULT_MAX_PROMPT_CHARS,
      description = "longest prompt or text, in characters (default ${DEFAULT-VALUE})")
  int maxPromptChars;

  @Option(names = "--max-body-bytes", defaultValue = "" + ServeSettings.DEFAULT_MAX_BODY_BYTES,
      description = "largest request body (default ${DEFAULT-VALUE})")
  int maxBodyBytes;

  @Option(names = "--read-timeout-ms", defaultValue = "" + ServeSettings.DEFAULT_READ_TIMEOUT_MS,
      description = "longest a client may take to send its request (default ${DEFAULT-VALUE})")
  int readTimeoutMs;

  @Option(names = "--shutdown-grace-ms", defaultValue = "" + ServeSettings.DEFAULT_SHUTDOWN_GRACE_MS,
      description = "how long SIGTERM waits for requests in flight (default ${DEFAULT-VALUE})")
  int shutdownGraceMs;

  @Option(names = "--threads", defaultValue = "" + ServeSettings.DEFAULT_COMPUTE_THREADS,
      description = "BLAS threads of the models' products (default ${DEFAULT-VALUE}: on 2 cores one thread gave the"
      + " best batched throughput, docs/serving.md)")
  int threads;

  @Option(names = "--api-key-file", description = "file whose first line is the key clients must send as "
      + "'Authorization: Bearer KEY' (default: no key)")
  Path apiKeyFile;

  @Override
  public Integer call() throws Exception {
    ServeSettings settings = new ServeSettings(host, port, maxBatch, queue, maxTokens, maxPromptChars,
        ServeSettings.DEFAULT_MAX_TEXTS, maxBodyBytes, readTimeoutMs, shutdownGraceMs, threads, null);
    if (apiKeyFile != null) {
      settings = settings.withApiKeyFile(apiKeyFile);
    }
    Map<String, String> gpts = named(checkpointDirs, "--checkpoint-dir", "gpt");
    Map<String, String> files = named(weightFiles, "--weights", "gpt");
    Map<String, String> classifiers = named(modelDirs, "--model-dir", null);
    // The Hadoop settings spark-submit would give a job (spark.hadoop.*); GPTs load without Spark.
    ModelServer server = ModelServer.start(settings, gpts, files, classifiers,
        SparkJobConf.of("ringtrain serve", 1).hadoopSettings());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close(); // SIGTERM: stop accepting, finish requests in flight within the grace
      } catch (Exception e) {
        Thread.currentThread().getThreadGroup().uncaughtException(Thread.currentThread(), e);
      }
    }, "serve-shutdown"));
    server.join();
    return 0;
  }

  /**
   * NAME=DIR or DIR values (NAME=FILE or FILE for --weights) as name to path; a bare path is named
   * {@code single} or after its last part.
   */
  static Map<String, String> named(List<String> values, String option, String single) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String v : values) {
      int eq = v.indexOf('=');
      String name;
      String dir;
      if (eq > 0 && NAME.matcher(v.substring(0, eq)).matches()) {
        name = v.substring(0, eq);
        dir = v.substring(eq + 1);
      } else {
        dir = v;
        String trimmed = v.replaceAll("/+$", "");
        name = single != null ? single : trimmed.substring(trimmed.lastIndexOf('/') + 1);
      }
      if (dir.isBlank() || !NAME.matcher(name).matches()) {
        String what = option.equals("--weights") ? "FILE" : "DIR";
        throw new IllegalArgumentException(option + " must be NAME=" + what + " or " + what + " with a name of letters,"
            + " digits, '.', '_' or '-', but found '" + v + "'; e.g. " + option + " sentiment=target/models/sentiment");
      }
      if (out.put(name, dir) != null) {
        throw new IllegalArgumentException(option + " names '" + name + "' twice; give each model its own name, e.g. "
            + option + " " + name + "2=" + dir);
      }
    }
    return out;
  }
}
