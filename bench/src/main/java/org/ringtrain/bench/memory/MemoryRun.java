// One row of the memory benchmark, run in a JVM of its own (so that its peak resident size is its
// own): the product's GptTrainer on the GPT-2 124M shape in Spark local mode on random tokens, with
// a thread sampling the process's resident size and its off-heap part (resident size less the
// JVM's committed heap and non-heap memory; ND4J's arrays are allocated by libnd4j, which keeps
// no counter of its own that Java can read) every 50 ms. Prints
// one "result ..." line of key=value pairs for MemoryBench to read. It is not a timed benchmark
// of the model (bench/model.sh is).
package org.ringtrain.bench.memory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.runtime.NativeMemory;

/** Entry point of one measured configuration; arguments: worldSize microBatch recompute steps workDir sharding. */
public final class MemoryRun {

  /** GPT-2's BPE vocabulary. */
  static final int VOCAB = 50257;
  /** GPT-2's context length. */
  static final int CONTEXT = 1024;

  private MemoryRun() {
  }

  public static void main(String[] args) throws Exception {
    int worldSize = Integer.parseInt(args[0]);
    int microBatch = Integer.parseInt(args[1]);
    boolean recompute = Boolean.parseBoolean(args[2]);
    int steps = Integer.parseInt(args[3]);
    Path dir = Path.of(args[4]);
    boolean sharding = args.length > 5 && Boolean.parseBoolean(args[5]);
    deleteRecursively(dir); // an earlier run's checkpoint would make the trainer refuse to start
    Files.createDirectories(dir);
    int slots = Math.max(2, worldSize);
    TrainConfig cfg = TrainConfig.fromLayers(
        Map.of("input", "random-tokens", "checkpointDir", dir.resolve("checkpoints").toString(),
            "metricsLog", dir.resolve("metrics.jsonl").toString(), "tokenizer", "gpt2"),
        Map.of("contextLength", CONTEXT, "dModel", 768, "layers", 12, "heads", 12, "recompute", recompute),
        Map.of("worldSize", worldSize, "threadsPerRank", Math.max(1, slots / worldSize), "microBatch", microBatch,
            "steps", steps, "bucketMb", 16, "optimizerSharding", sharding),
        Map.of("learningRate", 6e-4, "minLearningRate", 6e-5, "warmupSteps", 0),
        Map.of("evalEvery", 0, "evalBatches", 1, "checkReplicasEvery", 0, "checkpointEvery", steps,
            "keepCheckpoints", 1, "unsafeKeepOne", true, "ringTimeoutSeconds", 3600));
    SparkConf conf = new SparkConf().setMaster("local[" + slots + "]").setAppName("ringtrain-memory-bench")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
        .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .set("spark.kryo.registrator", "org.ringtrain.driver.serde.RingtrainKryoRegistrator");
    try (JavaSparkContext sc = new JavaSparkContext(conf)) {
      JavaRDD<int[]> train = sc.parallelize(rows(worldSize * microBatch * steps), worldSize);
      JavaRDD<int[]> validation = sc.parallelize(rows(worldSize), worldSize);
      train.count();
      validation.count();
      Nd4j.zeros(1).close(); // load libnd4j and OpenBLAS before the baseline: they are not a rank's
      System.gc();
      long offHeapBase = offHeapBytes();
      long residentBase = NativeMemory.residentBytes();
      AtomicLong offHeapPeak = new AtomicLong(offHeapBase);
      AtomicLong residentPeak = new AtomicLong(residentBase);
      Thread sampler = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          offHeapPeak.accumulateAndGet(offHeapBytes(), Math::max);
          residentPeak.accumulateAndGet(NativeMemory.residentBytes(), Math::max);
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "memory-sampler");
      sampler.setDaemon(true);
      sampler.start();
      new GptTrainer(cfg).fit(sc, train, validation, "gpt2", VOCAB);
      sampler.interrupt();
      sampler.join();
      deleteRecursively(dir.resolve("checkpoints")); // 1.4 GiB of weights and optimizer state; the log stays
      double[] stepMs = stepMillis(Path.of(cfg.loop().resolvedMetricsLog()));
      double lastMs = stepMs[stepMs.length - 1];
      System.out.printf(Locale.ROOT, "result n=%d b=%d recompute=%s offHeapBase=%d offHeapPeak=%d"
          + " residentBase=%d residentPeak=%d stepMs=%.0f firstStepMs=%.0f tokensPerSecond=%.1f%n", worldSize,
          microBatch, recompute, offHeapBase, offHeapPeak.get(), residentBase, residentPeak.get(), lastMs,
          stepMs[0], cfg.tokensPerStep() / (lastMs / 1000.0));
    }
  }

  /** The resident size less the JVM's committed heap and non-heap memory: ND4J's arrays and native code. */
  private static long offHeapBytes() {
    MemoryMXBean jvm = ManagementFactory.getMemoryMXBean();
    return NativeMemory.residentBytes() - jvm.getHeapMemoryUsage().getCommitted()
        - jvm.getNonHeapMemoryUsage().getCommitted();
  }

  /** {@code n} windows of CONTEXT + 1 random token ids (the loss does not matter here, the shapes do). */
  private static List<int[]> rows(int n) {
    SplitMix64 rng = new SplitMix64(n);
    List<int[]> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int[] row = new int[CONTEXT + 1];
      for (int t = 0; t < row.length; t++) {
        row[t] = (int) (rng.nextDouble() * VOCAB);
      }
      rows.add(row);
    }
    return rows;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** compute_ms + comm_exposed_ms of every step event of the metrics log, in step order. */
  private static double[] stepMillis(Path metricsLog) throws IOException {
    List<Double> ms = new ArrayList<>();
    for (String line : Files.readAllLines(metricsLog)) {
      MetricsEvent e = MetricsEvent.fromJson(line);
      if ("step".equals(e.event())) {
        // The last step also writes the checkpoint: time forward, backward and exposed communication.
        ms.add(e.number("compute_ms") + e.number("comm_exposed_ms"));
      }
    }
    return ms.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
