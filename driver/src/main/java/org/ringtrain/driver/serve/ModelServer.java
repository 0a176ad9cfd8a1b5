/*
 * ModelServer: the `ringtrain serve` process's server - loads the GPTs (no Spark) and the
 * classifier pipelines (Spark local[1], stopped once they are read), runs Jetty on the configured
 * address and shuts down gracefully. It defines no endpoint (see ServeHandler).
 */
package org.ringtrain.driver.serve;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.ringtrain.driver.classify.ClassifyJob;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.InferenceGpt;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.launch.SparkJobConf;
import org.ringtrain.ops.runtime.Nd4jRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running model server. {@link #start} returns once the port is bound and every model is loaded;
 * {@link #close} stops accepting, lets requests in flight finish within the shutdown grace, then
 * stops the batching threads.
 */
public final class ModelServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelServer.class);

  private final Server server;
  private final ServerConnector connector;
  private final Map<String, ServedGpt> gpts;
  private final Map<String, ServedClassifier> classifiers;
  private volatile boolean ready;
  private boolean closed;

  private ModelServer(ServeSettings settings, Map<String, ServedGpt> gpts, Map<String, ServedClassifier> classifiers,
      ServeMetrics metrics) {
    this.gpts = gpts;
    this.classifiers = classifiers;
    QueuedThreadPool threads = new QueuedThreadPool(Math.max(64, 2 * settings.queueCapacity() + 16));
    threads.setName("serve-http");
    server = new Server(threads);
    connector = new ServerConnector(server);
    connector.setHost(settings.host());
    connector.setPort(settings.port());
    connector.setIdleTimeout(settings.readTimeoutMs());
    server.addConnector(connector);
    GracefulHandler graceful = new GracefulHandler(); // on stop: new requests get 503, running ones finish
    graceful.setHandler(new ServeHandler(gpts, classifiers, settings, metrics, () -> ready));
    server.setHandler(graceful);
    server.setStopTimeout(settings.shutdownGraceMs());
    server.setStopAtShutdown(false); // the caller decides when (ServeCommand's SIGTERM hook)
  }

  /**
   * Loads the models and starts serving them: {@link #start(ServeSettings, Map, Map, Map, HadoopSettings)}
   * with no GPT weights files.
   */
  public static ModelServer start(ServeSettings settings, Map<String, String> gptDirs,
      Map<String, String> classifierDirs, HadoopSettings hadoop) throws Exception {
    return start(settings, gptDirs, Map.of(), classifierDirs, hadoop);
  }

  /**
   * Loads the models and starts serving them.
   *
   * @param settings       address, batching and limits
   * @param gptDirs        name to checkpoint directory of each GPT (any Hadoop file system)
   * @param gptFiles       name to weights file of each GPT: a Hugging Face GPT-2 safetensors file or
   *                       an int8 model from {@code ringtrain quantize} (served on its int8 weights);
   *                       names distinct from {@code gptDirs}'
   * @param classifierDirs name to saved PipelineModel directory of each text classifier
   * @param hadoop         the Hadoop settings checkpoints are read with
   * @throws IllegalArgumentException when no model is given, a name is given twice, or a directory
   *                                  or file holds no servable model
   */
  public static ModelServer start(ServeSettings settings, Map<String, String> gptDirs, Map<String, String> gptFiles,
      Map<String, String> classifierDirs, HadoopSettings hadoop) throws Exception {
    for (String name : gptFiles.keySet()) {
      if (gptDirs.containsKey(name)) {
        throw new IllegalArgumentException("GPT name '" + name + "' is given to both --checkpoint-dir and --weights;"
            + " name them apart, e.g. --weights " + name + "-int8=" + gptFiles.get(name));
      }
    }
    if (gptDirs.isEmpty() && gptFiles.isEmpty() && classifierDirs.isEmpty()) {
      throw new IllegalArgumentException("serve needs at least one model, but found none; give --checkpoint-dir DIR"
          + " or --weights FILE (a GPT) and/or --model-dir NAME=DIR (a classifier saved by train-classifier)");
    }
    LOG.info("serve settings: {}", settings);
    Nd4jRuntime.useThreads(new Nd4jRuntime.Threads(settings.computeThreads(), 1));
    LOG.info("{}", Nd4jRuntime.describe());
    ServeMetrics metrics = new ServeMetrics();
    Map<String, ServedGpt> gpts = new LinkedHashMap<>();
    Map<String, ServedClassifier> classifiers = new LinkedHashMap<>();
    ModelServer s = new ModelServer(settings, gpts, classifiers, metrics);
    try {
      s.server.start();
      LOG.info("serving on http://{}:{} (loading {} model(s); /readyz answers 200 once they are in)",
          settings.host(), s.port(), gptDirs.size() + gptFiles.size() + classifierDirs.size());
      for (Map.Entry<String, String> e : gptDirs.entrySet()) {
        LOG.info("loading GPT {} from {}", e.getKey(), e.getValue());
        gpts.put(e.getKey(), new ServedGpt(e.getKey(), TrainedGpt.load(e.getValue(), hadoop), settings, metrics));
      }
      for (Map.Entry<String, String> e : gptFiles.entrySet()) {
        LOG.info("loading GPT {} from weights file {}", e.getKey(), e.getValue());
        gpts.put(e.getKey(), new ServedGpt(e.getKey(), InferenceGpt.loadWeights(e.getValue(), hadoop), settings,
            metrics));
      }
      if (!classifierDirs.isEmpty()) {
        // Reading a saved PipelineModel needs a SparkSession; inference afterwards does not.
        try (SparkJob spark = SparkJobConf.of("ringtrain serve (loading classifiers)", 1).start()) {
          for (Map.Entry<String, String> e : classifierDirs.entrySet()) {
            LOG.info("loading classifier {} from {}", e.getKey(), e.getValue());
            classifiers.put(e.getKey(), new ServedClassifier(e.getKey(), e.getValue(),
                ClassifyJob.loadPipeline(e.getValue()), digest(e.getValue()), settings, metrics));
          }
        }
      }
      s.ready = true;
      LOG.info("ready: {}", s.describe());
      return s;
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
  }

  /** The bound port (the chosen one when the settings asked for 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** Names and kinds of the models served. */
  public String describe() {
    return "GPT " + gpts.keySet() + ", classifiers " + classifiers.keySet();
  }

  /** Blocks until the server has stopped. */
  public void join() throws InterruptedException {
    server.join();
  }

  /** Graceful stop: no new connections, in-flight requests finish within the grace, then the models close. */
  @Override
  public synchronized void close() throws Exception {
    if (closed) {
      return;
    }
    closed = true;
    ready = false;
    LOG.info("shutting down: finishing requests in flight (up to {} ms)", server.getStopTimeout());
    server.stop();
    for (ServedGpt g : gpts.values()) {
      g.close();
    }
    for (ServedClassifier c : classifiers.values()) {
      c.close();
    }
    LOG.info("stopped");
  }

  /** The model named {@code name} ("" = the only one), or 404 naming those served. */
  static <T> T pick(Map<String, T> models, String name, String kind, String option) {
    if (models.isEmpty()) {
      throw new ApiError(404, "model_not_found", "this server serves no " + kind + "; start it with " + option);
    }
    if (name.isEmpty()) {
      if (models.size() == 1) {
        return models.values().iterator().next();
      }
      throw ApiError.badRequest("'model' is required when several " + kind + "s are served: one of " + models.keySet());
    }
    T m = models.get(name);
    if (m == null) {
      throw new ApiError(404, "model_not_found", "no " + kind + " named '" + name + "'; served: " + models.keySet());
    }
    return m;
  }

  /** SHA-256 over a local model directory's files in path order; "unknown" for remote directories. */
  private static String digest(String dir) throws IOException {
    Path root = Path.of(dir.startsWith("file:") ? java.net.URI.create(dir).getPath() : dir);
    if (!Files.isDirectory(root)) {
      return "unknown";
    }
    try (Stream<Path> walk = Files.walk(root)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      List<Path> files = walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".crc"))
          .sorted().toList();
      for (Path f : files) {
        md.update(root.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (InputStream in = Files.newInputStream(f)) {
          md.update(in.readAllBytes());
        }
      }
      return "sha256:" + java.util.HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }
}
