// Data-parallel training benchmark: the product's GptTrainer on the small GPT
// config, (a) two ranks with one thread each against (b) one rank with two
// threads and the same global batch, in one Spark local[2] JVM, one run.
// Prints tokens/s, the data-parallel overhead against its target, (a)'s step
// time split and the share of communication hidden, as markdown.
package org.ringtrain.bench.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.bench.train.Scenario.Measurement;

/** Entry point of {@code bench/train.sh}. */
public final class TrainBench {
  private TrainBench() {
  }

  public static void main(String[] args) throws IOException {
    TrainBenchOptions options;
    try {
      if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
        System.out.println(TrainBenchOptions.USAGE);
        return;
      }
      options = TrainBenchOptions.parse(args, System.getProperty("trainbench.command", "TrainBench"));
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    BenchData data = BenchData.load(options.data(), Scenario.CONTEXT);
    List<Scenario> scenarios = options.scenarios().stream().map(k -> Scenario.named(k, options.microBatch()))
        .toList();
    Path runRoot = options.workDir().resolve("run-" + LocalDateTime.now()
        .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));

    String loadStart = LoadAverage.now();
    int defaultBlasThreads = Nd4j.factory().blas().getMaxThreads();
    String blasAtStart = defaultBlasThreads + " (OMP_NUM_THREADS="
        + System.getenv().getOrDefault("OMP_NUM_THREADS", "unset") + ")";
    System.out.println("ringtrain data-parallel training benchmark: " + options.command());
    System.out.println("machine: " + LoadAverage.machine() + "; Java " + System.getProperty("java.version")
        + "; load average at start " + loadStart);
    System.out.println("data: " + data.describe());
    System.out.println("steps per scenario: " + options.warmup() + " warm-up + " + options.timed() + " timed + 1"
        + " final (validation, replica check, checkpoint), rounds " + options.rounds() + ", bucket "
        + options.bucketMb() + " MiB, OpenBLAS threads at start " + blasAtStart);

    Map<Scenario, List<Measurement>> byScenario = new LinkedHashMap<>();
    scenarios.forEach(s -> byScenario.put(s, new ArrayList<>()));
    try (JavaSparkContext sc = new JavaSparkContext(sparkConf())) {
      for (int round = 0; round < options.rounds(); round++) {
        List<Scenario> order = new ArrayList<>(scenarios);
        if (round % 2 == 1) {
          Collections.reverse(order);
        }
        for (Scenario s : order) {
          System.out.println("running " + s.label() + ": worldSize " + s.worldSize() + ", threadsPerRank "
              + s.threadsPerRank() + ", micro-batch " + s.microBatch() + (s.pinBlas() ? ", OpenBLAS pinned" : "")
              + " (round " + (round + 1) + ", load " + LoadAverage.now() + ")");
          Path runDir = runRoot.resolve("round" + (round + 1) + "-" + s.key());
          Measurement m = s.run(sc, options, data, runDir, defaultBlasThreads);
          deleteRecursively(runDir.resolve("checkpoints")); // ~130 MB each; the metrics log stays
          byScenario.get(s).add(m);
          System.out.printf(java.util.Locale.ROOT, "  %.0f tokens/s over %d timed steps, loss %.3f -> %.3f, "
              + "replicas identical: %s, ND4J threads %d, OpenBLAS threads %d, %.0f s in all%n",
              m.tokensPerSecond(), m.steps(), m.firstLoss(), m.lastLoss(), m.replicasIdentical(), m.nd4jThreads(),
              m.blasThreads(), m.wallSeconds());
        }
      }
    }
    String loadEnd = LoadAverage.now();

    Map<String, Measurement> combined = new LinkedHashMap<>();
    byScenario.forEach((s, rounds) -> combined.put(s.key(), TrainReport.combine(rounds)));

    System.out.println();
    System.out.println("## Data-parallel training (driver)");
    System.out.println();
    System.out.println("Command: `" + options.command() + "` (main class `" + TrainBench.class.getName() + "`).");
    System.out.println();
    System.out.println("- Date: " + LocalDate.now());
    System.out.println("- Machine: " + LoadAverage.machine());
    System.out.println("- Java " + System.getProperty("java.version") + ", Spark " + sparkVersion()
        + " local[2], ND4J " + Nd4j.getBackend().getClass().getSimpleName() + ", OpenBLAS threads at start "
        + blasAtStart);
    System.out.println("- Load average (1/5/15 min): " + loadStart + " at start, " + loadEnd + " at end");
    System.out.println("- Model: vocab 256 (byte tokens), ctx 256, d 384, 6 layers, 6 heads; data " + data.describe());
    System.out.println("- Steps per scenario: " + options.warmup() + " warm-up + " + options.timed() + " timed + 1"
        + " final, left out (it validates, checks replicas and writes the checkpoint), per round; "
        + options.rounds() + " round(s) in alternating order; gradient bucket " + options.bucketMb() + " MiB");
    System.out.println();
    System.out.println(TrainReport.table(new ArrayList<>(combined.values()), false));
    if (options.rounds() > 1) {
      System.out.println();
      System.out.println("Each round on its own:");
      System.out.println();
      List<Measurement> all = new ArrayList<>();
      byScenario.values().forEach(all::addAll);
      System.out.println(TrainReport.table(all, true));
    }
    System.out.println();
    System.out.println(TrainReport.summary(combined));
    System.out.println();
    System.out.println("Per-rank totals of the last round (all steps, from the ranks' results):");
    combined.values().forEach(m -> System.out.println(TrainReport.ranks(m)));
  }

  /** local[2] with the product's serializer settings (as the jobs set them). */
  private static SparkConf sparkConf() {
    return new SparkConf().setMaster("local[2]").setAppName("ringtrain-train-bench")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
        .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .set("spark.kryo.registrator", "org.ringtrain.driver.serde.RingtrainKryoRegistrator");
  }

  private static String sparkVersion() {
    return org.apache.spark.package$.MODULE$.SPARK_VERSION();
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
