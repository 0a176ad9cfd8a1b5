// One side of the comparison: a training run with a given world size, threads
// per rank and micro-batch, run through the product's GptTrainer, and what its
// metrics log says about the timed steps.
package org.ringtrain.bench.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.driver.train.RankResult;
import org.ringtrain.driver.train.TrainingResult;

/**
 * A scenario of the benchmark.
 *
 * @param key            its name on the command line: a, a1 or b
 * @param label          its name in the report
 * @param worldSize      ranks (one Spark task each)
 * @param threadsPerRank the trainer's threadsPerRank
 * @param microBatch     sequences per rank per step
 * @param pinBlas        set OpenBLAS's (process-wide) thread count to threadsPerRank before the run;
 *                       otherwise it is reset to the process's default, which is what the trainer
 *                       leaves it at
 * @param sharded        the trainer's optimizerSharding (ZeRO stage 1)
 */
record Scenario(String key, String label, int worldSize, int threadsPerRank, int microBatch, boolean pinBlas,
    boolean sharded) {

  /** The scenarios by key, for a micro-batch of {@code b} sequences per rank in (a). */
  static Scenario named(String key, int b) {
    return switch (key) {
      case "a" -> new Scenario(key, "(a) local[2]", 2, 1, b, false, false);
      case "a1" -> new Scenario(key, "(a1) local[2], OpenBLAS 1 thread/rank", 2, 1, b, true, false);
      case "z" -> new Scenario(key, "(z) local[2], optimizerSharding", 2, 1, b, false, true);
      case "b" -> new Scenario(key, "(b) local[1]-equivalent", 1, 2, 2 * b, false, false);
      default -> throw new IllegalArgumentException("unknown scenario " + key);
    };
  }

  /** The small config: vocab 256 (bytes), ctx 256, d 384, 6 layers, 6 heads. */
  static final int CONTEXT = 256;

  /** What a run of the scenario measured over its timed steps (rank 0's view, from the metrics log). */
  record Measurement(Scenario scenario, int steps, long tokensPerStep, double stepMs, double computeMs,
      double exposedMs, double spanMs, double wallSeconds, double firstLoss, double lastLoss,
      boolean replicasIdentical, List<RankResult> ranks, int nd4jThreads, int blasThreads, String load) {

    double tokensPerSecond() {
      return steps * tokensPerStep / (stepMs / 1000.0);
    }

    double otherMs() {
      return stepMs - computeMs - exposedMs;
    }

    /** Tokens per second of forward + backward alone, as if communication and the rest were free. */
    double computeTokensPerSecond() {
      return steps * tokensPerStep / (computeMs / 1000.0);
    }

    /** The share of the ring's busy time that backward hid; NaN without communication. */
    double hiddenFraction() {
      return spanMs > 0 ? 1 - exposedMs / spanMs : Double.NaN;
    }
  }

  /** The trainer's config for this scenario; nothing but the run is written to {@code runDir}. */
  TrainConfig config(TrainBenchOptions options, Path runDir) {
    return TrainConfig.fromLayers(
        Map.of("input", options.data(), "checkpointDir", runDir.resolve("checkpoints").toString(),
            "metricsLog", runDir.resolve("metrics.jsonl").toString()),
        Map.of("contextLength", CONTEXT, "dModel", 384, "layers", 6, "heads", 6),
        Map.of("worldSize", worldSize, "threadsPerRank", threadsPerRank, "microBatch", microBatch,
            "steps", options.totalSteps(), "bucketMb", options.bucketMb()),
        // A gentle schedule: throughput does not depend on it, and 1e-3 after one warm-up step spiked the loss.
        Map.of("learningRate", 3e-4, "minLearningRate", 3e-5, "warmupSteps", 2, "optimizerSharding", sharded),
        // Validation, the replica check and the checkpoint only at the last step, which is not timed.
        Map.of("evalEvery", 0, "evalBatches", 1, "checkReplicasEvery", 0, "checkpointEvery", options.totalSteps(),
            "keepCheckpoints", 1, "unsafeKeepOne", true, "ringTimeoutSeconds", 900));
  }

  /**
   * Trains on {@code data} and measures the timed steps; {@code defaultBlasThreads} is OpenBLAS's thread
   * count when the JVM started.
   */
  Measurement run(JavaSparkContext sc, TrainBenchOptions options, BenchData data, Path runDir,
      int defaultBlasThreads) throws IOException {
    TrainConfig cfg = config(options, runDir);
    // Process-wide: every rank of local mode shares it, so pinning is valid only because all ranks
    // of a scenario use the same count.
    Nd4j.factory().blas().setMaxThreads(pinBlas ? threadsPerRank : defaultBlasThreads);
    long t0 = System.nanoTime();
    TrainingResult result = new GptTrainer(cfg).fit(sc, data.train(sc, worldSize), data.validation(sc, worldSize),
        "byte", BenchData.VOCAB).summary();
    double wallSeconds = (System.nanoTime() - t0) / 1e9;

    List<MetricsEvent> timed = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(cfg.loop().resolvedMetricsLog()))) {
      MetricsEvent e = MetricsEvent.fromJson(line);
      double step = "step".equals(e.event()) ? e.number("step") : 0;
      if (step > options.warmup() && step <= options.warmup() + options.timed()) {
        timed.add(e);
      }
    }
    if (timed.size() != options.timed()) {
      throw new IllegalStateException(label + ": expected " + options.timed() + " timed step events in "
          + cfg.loop().resolvedMetricsLog() + " but found " + timed.size());
    }
    double[] losses = result.ranks().get(0).losses();
    return new Measurement(this, timed.size(), cfg.tokensPerStep(), sum(timed, "step_ms"), sum(timed, "compute_ms"),
        sum(timed, "comm_exposed_ms"), sum(timed, "comm_span_ms"), wallSeconds, losses[0],
        losses[losses.length - 1], result.replicasIdentical(), result.ranks(),
        Nd4j.getEnvironment().maxThreads(), Nd4j.factory().blas().getMaxThreads(), LoadAverage.now());
  }

  private static double sum(List<MetricsEvent> events, String key) {
    double total = 0;
    for (MetricsEvent e : events) {
      total += e.number(key);
    }
    return total;
  }
}
