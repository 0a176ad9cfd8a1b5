// Every setting of a training run in one immutable, validated record. It is
// what `train` resolves from conf/ files and flags, what the driver logs once,
// and what every checkpoint stores (as JSON). It knows nothing about Spark.
package org.ringtrain.driver.train;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.ringtrain.ops.model.ModelConfig;

/**
 * A training run's configuration. Build it from key/value layers with {@link #fromLayers}; every
 * field is checked in the compact constructor, and a bad value is rejected with a message that
 * names the field, the value and what to do.
 *
 * @param input              corpus path on any Hadoop FileSystem (file, directory or glob); required
 * @param format             {@code text} (default) or {@code shards} (llm.c uint16 token shards)
 * @param tokenizer          {@code byte} (default, vocab 256) or {@code gpt2} (BPE, vocab 50257)
 * @param validationFraction share of sequences held out for validation (default 0.05)
 * @param contextLength      tokens per sequence, T (default 128)
 * @param dModel             embedding width, C (default 128)
 * @param layers             Transformer blocks, L (default 4)
 * @param heads              attention heads, NH (default 4); must divide dModel
 * @param worldSize          ranks, one Spark task each (default 2)
 * @param microBatch         sequences per rank per micro-batch, B (default 8)
 * @param gradAccumSteps     micro-batches per optimizer step (default 1)
 * @param steps              optimizer steps in total (default 200)
 * @param learningRate       peak AdamW learning rate (default 1e-3)
 * @param minLearningRate    floor of the cosine decay (default 1e-4)
 * @param warmupSteps        linear warm-up steps (default 20)
 * @param weightDecay        AdamW decoupled weight decay on 2-D weights (default 0.1)
 * @param gradClip           global gradient-norm clip, 0 = off (default 1.0)
 * @param seed               seed of initialisation and data order (default 1337)
 * @param shuffle            reshuffle each rank's sequences every epoch (default true)
 * @param evalEvery          steps between validation passes, 0 = only at the end (default 50)
 * @param evalBatches        micro-batches per rank per validation pass (default 8)
 * @param checkReplicasEvery steps between cross-rank checks that parameters are bitwise equal,
 *                           0 = only at the end (default 50)
 * @param checkpointDir      checkpoint directory on any Hadoop FileSystem; required
 * @param checkpointEvery    steps between checkpoints; the last step always writes one (default 100)
 * @param keepCheckpoints    newest complete checkpoints kept (default 3)
 * @param resume             continue from the newest valid checkpoint in checkpointDir (default false)
 * @param metricsLog         JSON-lines metrics file; empty = {@code <checkpointDir>/metrics.jsonl}
 * @param tensorboardDir     TensorBoard log directory; empty = {@code <checkpointDir>/tensorboard}
 * @param peakGflopsPerRank  peak GFLOP/s of one rank's device, for the MFU metric; 0 (default) = rank 0
 *                           measures its sgemm GFLOP/s when training starts
 * @param bucketMb           gradient bucket size for the overlapped all-reduce, MiB (default 4)
 * @param ringCodec          {@code fp32} (default, exact) or {@code bf16} (half the bytes)
 * @param ringTimeoutSeconds ring I/O timeout, must exceed the slowest step and checkpoint (default 300)
 * @param ringBindHost       interface the ring listens on; empty = the executor's address (default)
 * @param ringTransport      {@code auto} (default: Unix domain sockets between ranks on the same host,
 *                           TCP between hosts) or {@code tcp} (always TCP)
 * @param ringSocketDir      directory under which {@code auto} makes each rank's private (0700) socket
 *                           directory; empty = java.io.tmpdir (default)
 * @param threadsPerRank     BLAS and OpenMP threads per rank; 0 = spark.task.cpus (default 0)
 * @param opThreadsPerRank   threads of libnd4j's own pool for its non-BLAS ops (elementwise,
 *                           softmax, layer norm); 0 = threadsPerRank. Default 1: on the measured
 *                           2-core machine the per-op fork/join cost more than it gained
 *                           (docs/benchmarks.md, "Model throughput")
 */
public record TrainConfig(
    String input,
    String format,
    String tokenizer,
    double validationFraction,
    int contextLength,
    int dModel,
    int layers,
    int heads,
    int worldSize,
    int microBatch,
    int gradAccumSteps,
    long steps,
    double learningRate,
    double minLearningRate,
    long warmupSteps,
    double weightDecay,
    double gradClip,
    long seed,
    boolean shuffle,
    long evalEvery,
    int evalBatches,
    long checkReplicasEvery,
    String checkpointDir,
    long checkpointEvery,
    int keepCheckpoints,
    boolean resume,
    String metricsLog,
    String tensorboardDir,
    double peakGflopsPerRank,
    int bucketMb,
    String ringCodec,
    int ringTimeoutSeconds,
    String ringBindHost,
    String ringTransport,
    String ringSocketDir,
    int threadsPerRank,
    int opThreadsPerRank) implements Serializable {

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  /** Every default, keyed by field name; {@code input} and {@code checkpointDir} have none. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("format", "text");
    d.put("tokenizer", "byte");
    d.put("validationFraction", 0.05);
    d.put("contextLength", 128);
    d.put("dModel", 128);
    d.put("layers", 4);
    d.put("heads", 4);
    d.put("worldSize", 2);
    d.put("microBatch", 8);
    d.put("gradAccumSteps", 1);
    d.put("steps", 200);
    d.put("learningRate", 1e-3);
    d.put("minLearningRate", 1e-4);
    d.put("warmupSteps", 20);
    d.put("weightDecay", 0.1);
    d.put("gradClip", 1.0);
    d.put("seed", 1337);
    d.put("shuffle", true);
    d.put("evalEvery", 50);
    d.put("evalBatches", 8);
    d.put("checkReplicasEvery", 50);
    d.put("checkpointEvery", 100);
    d.put("keepCheckpoints", 3);
    d.put("resume", false);
    d.put("metricsLog", "");
    d.put("tensorboardDir", "");
    d.put("peakGflopsPerRank", 0.0);
    d.put("bucketMb", 4);
    d.put("ringCodec", "fp32");
    d.put("ringTimeoutSeconds", 300);
    d.put("ringBindHost", "");
    d.put("ringTransport", "auto");
    d.put("ringSocketDir", "");
    d.put("threadsPerRank", 0);
    d.put("opThreadsPerRank", 1);
    return d;
  }

  public TrainConfig {
    require(input != null && !input.isBlank(), "input", input, "give the corpus path, e.g. --input data/moby-dick.txt");
    format = lower(format);
    require("text".equals(format) || "shards".equals(format), "format", format, "use text or shards");
    tokenizer = lower(tokenizer);
    require("byte".equals(tokenizer) || "gpt2".equals(tokenizer), "tokenizer", tokenizer, "use byte or gpt2");
    require(validationFraction >= 0 && validationFraction < 0.5, "validationFraction", validationFraction,
        "use a value in [0, 0.5)");
    require(contextLength >= 2, "contextLength", contextLength, "a model needs at least 2 tokens of context");
    require(dModel > 0, "dModel", dModel, "use a positive width");
    require(layers > 0, "layers", layers, "use at least 1 layer");
    require(heads > 0 && dModel % heads == 0, "heads", heads,
        "heads must divide dModel=" + dModel + ", e.g. " + divisorNear(dModel, heads));
    require(worldSize >= 1, "worldSize", worldSize, "use at least 1 rank");
    require(microBatch >= 1, "microBatch", microBatch, "use at least 1 sequence per micro-batch");
    require(gradAccumSteps >= 1, "gradAccumSteps", gradAccumSteps, "use at least 1");
    require(steps >= 1, "steps", steps, "train for at least 1 step");
    require(learningRate > 0, "learningRate", learningRate, "use a positive learning rate");
    require(minLearningRate >= 0 && minLearningRate <= learningRate, "minLearningRate", minLearningRate,
        "use a value in [0, learningRate=" + learningRate + "]");
    require(warmupSteps >= 0 && warmupSteps < steps, "warmupSteps", warmupSteps,
        "use 0 or more, fewer than steps=" + steps);
    require(weightDecay >= 0, "weightDecay", weightDecay, "use 0 or more");
    require(gradClip >= 0, "gradClip", gradClip, "use 0 (off) or a positive norm");
    require(evalEvery >= 0, "evalEvery", evalEvery, "use 0 (only at the end) or a positive interval");
    require(evalBatches >= 1, "evalBatches", evalBatches, "use at least 1");
    require(checkReplicasEvery >= 0, "checkReplicasEvery", checkReplicasEvery, "use 0 (only at the end) or more");
    require(checkpointDir != null && !checkpointDir.isBlank(), "checkpointDir", checkpointDir,
        "give a directory on a shared filesystem, e.g. --checkpoint-dir hdfs:///ringtrain/run1");
    require(checkpointEvery >= 1, "checkpointEvery", checkpointEvery, "use a positive interval");
    require(keepCheckpoints >= 1, "keepCheckpoints", keepCheckpoints, "keep at least 1");
    metricsLog = metricsLog == null ? "" : metricsLog;
    tensorboardDir = tensorboardDir == null ? "" : tensorboardDir;
    require(peakGflopsPerRank >= 0, "peakGflopsPerRank", peakGflopsPerRank,
        "use 0 (rank 0 measures its sgemm peak) or the peak of one rank's device");
    require(bucketMb >= 1 && bucketMb <= 1024, "bucketMb", bucketMb, "use 1 to 1024 MiB");
    ringCodec = lower(ringCodec);
    require("fp32".equals(ringCodec) || "bf16".equals(ringCodec), "ringCodec", ringCodec, "use fp32 or bf16");
    require(ringTimeoutSeconds >= 1, "ringTimeoutSeconds", ringTimeoutSeconds, "use a positive timeout");
    ringBindHost = ringBindHost == null ? "" : ringBindHost;
    ringTransport = lower(ringTransport);
    require("auto".equals(ringTransport) || "tcp".equals(ringTransport), "ringTransport", ringTransport,
        "use auto (Unix sockets between ranks on one host, TCP between hosts) or tcp");
    ringSocketDir = ringSocketDir == null ? "" : ringSocketDir;
    require(ringSocketDir.isEmpty() || ringSocketDir.startsWith("/"), "ringSocketDir", ringSocketDir,
        "use an absolute local path, or empty for java.io.tmpdir");
    require(threadsPerRank >= 0, "threadsPerRank", threadsPerRank, "use 0 (follow spark.task.cpus) or more");
    require(opThreadsPerRank >= 0, "opThreadsPerRank", opThreadsPerRank, "use 0 (same as threadsPerRank) or more");
  }

  /**
   * Resolves a config from layers of key/value settings applied in order (defaults first, then
   * a conf/ file, then command-line flags); later layers win. Unknown keys are rejected.
   */
  @SafeVarargs
  public static TrainConfig fromLayers(Map<String, ?>... layers) {
    Map<String, Object> merged = new LinkedHashMap<>(defaults());
    for (Map<String, ?> layer : layers) {
      merged.putAll(layer);
    }
    try {
      return JSON.convertValue(merged, TrainConfig.class);
    } catch (IllegalArgumentException e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      if (root instanceof IllegalArgumentException && root.getMessage() != null
          && root.getMessage().startsWith("invalid train config")) {
        throw (IllegalArgumentException) root;
      }
      throw new IllegalArgumentException("invalid train config: " + firstLine(e.getMessage())
          + "; known settings: " + String.join(", ", defaultsWithRequired()), e);
    }
  }

  /** The model this config trains, for a tokenizer with {@code vocabSize} tokens. */
  public ModelConfig modelConfig(int vocabSize) {
    return new ModelConfig(vocabSize, contextLength, dModel, layers, heads, 0.0);
  }

  /** Tokens every optimizer step consumes across all ranks. */
  public long tokensPerStep() {
    return (long) worldSize * microBatch * gradAccumSteps * contextLength;
  }

  /** The metrics log path: {@link #metricsLog} or the default under the checkpoint directory. */
  public String resolvedMetricsLog() {
    return metricsLog.isEmpty() ? checkpointDir.replaceAll("/+$", "") + "/metrics.jsonl" : metricsLog;
  }

  /** The TensorBoard directory: {@link #tensorboardDir} or the default under the checkpoint directory. */
  public String resolvedTensorboardDir() {
    return tensorboardDir.isEmpty() ? checkpointDir.replaceAll("/+$", "") + "/tensorboard" : tensorboardDir;
  }

  /** This config as JSON (written into every checkpoint). */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the train config", e);
    }
  }

  /**
   * A config from {@link #toJson()}. Settings the JSON lacks (it may come from a checkpoint written
   * before they existed) take their defaults.
   */
  public static TrainConfig fromJson(String json) {
    try {
      Map<String, Object> stored = JSON.readValue(json, JSON.getTypeFactory()
          .constructMapType(LinkedHashMap.class, String.class, Object.class));
      return fromLayers(stored);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("invalid train config JSON: " + firstLine(e.getMessage()), e);
    }
  }

  /** This config with {@code key} set to {@code value} (re-validated). */
  public TrainConfig with(String key, Object value) {
    Map<String, Object> current = JSON.convertValue(this, JSON.getTypeFactory()
        .constructMapType(LinkedHashMap.class, String.class, Object.class));
    return fromLayers(current, Map.of(key, value));
  }

  private static java.util.List<String> defaultsWithRequired() {
    java.util.List<String> keys = new java.util.ArrayList<>(java.util.List.of("input", "checkpointDir"));
    keys.addAll(defaults().keySet());
    return keys;
  }

  private static String lower(String s) {
    return s == null ? null : s.trim().toLowerCase(Locale.ROOT);
  }

  private static int divisorNear(int d, int heads) {
    for (int delta = 0; delta < d; delta++) {
      if (heads - delta > 0 && d % (heads - delta) == 0) {
        return heads - delta;
      }
      if (d % (heads + delta) == 0) {
        return heads + delta;
      }
    }
    return 1;
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.split("\n", 2)[0];
  }

  private static void require(boolean ok, String field, Object value, String hint) {
    if (!ok) {
      throw new IllegalArgumentException("invalid train config: " + field + " = " + value + "; " + hint);
    }
  }
}
