/*
 * ClassifierJobBench: the train-classifier job's real training throughput on the shipped sentiment
 * corpus: what `ringtrain train-classifier --input data/sentiment/sentences.jsonl` runs (the same
 * TrainClassifierJob, Spark local[2], 2 ranks, the CLI's defaults) for a bounded number of epochs,
 * once per variant (ND4J compositions or fused kernels, with or without length grouping), each in
 * its own child JVM, alternately, with non-padding tokens/s, computed positions/s and the share of
 * padding side by side. It is a command, not a test; the accuracy it prints is of a short run and
 * is no accuracy measurement (bench/classifier.sh accuracy is).
 */
package org.ringtrain.bench.model;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.ringtrain.bench.train.LoadAverage;
import org.ringtrain.driver.classify.TextClassifier;
import org.ringtrain.driver.classify.TrainClassifierJob;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.launch.SparkJobConf;
import org.ringtrain.driver.metrics.MetricsEvent;

/**
 * Usage: {@code bench/classifier.sh job [--epochs E] [--warmup W] [--rounds R] [--arch transformer|lstm]
 * [--variants nd4j,fused,fused-grouped,nd4j-grouped,fused-padded,fused-padded-grouped] [--data PATH]}.
 *
 * <p>Each child runs {@link TrainClassifierJob} as train-classifier does at its defaults (d 64, 2
 * layers, 4 heads, maxLen 64, vocabulary 20000, batch 32 per rank, lr 0.002, 2 ranks, seed 42,
 * test fraction 0.2) except {@code --epochs} (default 2 of the job's 10), with the variant's kernel
 * path ({@code nd4j*}: {@code -Dringtrain.kernels.nd4j=true}, and the Transformer over every padded
 * position as the first version computed it, {@code -Dringtrain.classifier.padded=true}; {@code fused*}:
 * the fused kernels on packed rows, the job's default, or with {@code -padded} over every padded
 * position) and groupByLength ({@code *-grouped}).
 * Timed: rank 0's {@code step_ms} (its forward and backward, the exposed ring wait, clipping, AdamW:
 * the pace of the slower rank) summed over the run's steps after the first {@code --warmup}
 * (default 8), leaving out steps that wrote a checkpoint; counted: the {@code tokens} (not padding)
 * and {@code positions} (each micro-batch's rows x its longest row: what the padded layout computes) of
 * those steps' global batches, both ranks. Also the child JVM's CPU time over the same steps (every
 * thread: both ranks, Spark, the JIT), which a loaded machine distorts less than wall time.
 * A third line gives the medians of the timed steps' parts, and the table the median step beside
 * the mean: a 10-epoch run is short enough that the JIT's first compilations and recompilation
 * episodes weigh in its mean. Default: 2 rounds of nd4j, fused, fused-grouped.
 */
public final class ClassifierJobBench {

  private static final String CHILD = "--child";

  private ClassifierJobBench() {
  }

  /** Parsed flags; defaults as in the class comment. */
  private static final class Options {
    int epochs = 2;
    int warmup = 8;
    int rounds = 2;
    String arch = "transformer";
    List<String> variants = List.of("nd4j", "fused", "fused-grouped");
    String data = "data/sentiment/sentences.jsonl";
    String child; // the variant this child JVM runs; null in the parent
    List<String> passOn = new ArrayList<>();
  }

  /** Runs the benchmark; see the class comment for the flags. */
  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    if (o.child != null) {
      runChild(o);
      return;
    }
    System.out.println("command: bench/classifier.sh job" + (args.length == 0 ? "" : " " + String.join(" ", args)));
    System.out.println("machine: " + LoadAverage.machine() + "; load average at the start " + LoadAverage.now());
    // per round {steps, ms, tokens, positions, acc, cpu ms, median step ms}
    Map<String, List<double[]>> byVariant = new LinkedHashMap<>();
    for (int round = 1; round <= o.rounds; round++) {
      for (String variant : o.variants) {
        List<String> childArgs = new ArrayList<>(o.passOn);
        childArgs.add(CHILD);
        childArgs.add(variant);
        boolean nd4j = variant.startsWith("nd4j");
        for (String line : ChildJvm.run(ClassifierJobBench.class, nd4j, nd4j || variant.contains("padded"), childArgs)) {
          String[] f = line.split(" ");
          double[] r = new double[7];
          for (int k = 0; k < r.length; k++) {
            r[k] = Double.parseDouble(f[2 + k]);
          }
          byVariant.computeIfAbsent(variant, v -> new ArrayList<>()).add(r);
        }
        System.out.println("round " + round + " " + variant + " done, load average " + LoadAverage.now());
      }
    }
    printTable(o, byVariant);
    System.out.println("load average at the end " + LoadAverage.now());
  }

  private static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--epochs" -> o.epochs = positive(a, value(args, ++i));
        case "--warmup" -> o.warmup = Integer.parseInt(value(args, ++i));
        case "--rounds" -> o.rounds = positive(a, value(args, ++i));
        case "--arch" -> o.arch = value(args, ++i);
        case "--variants" -> o.variants = List.of(value(args, ++i).split(","));
        case "--data" -> o.data = value(args, ++i);
        case CHILD -> o.child = value(args, ++i);
        case "--help", "-h" -> {
          System.out.println("bench/classifier.sh job [--epochs E (default 2)] [--warmup W steps (default 8)]"
              + " [--rounds R (default 2)] [--arch transformer|lstm] [--variants nd4j,fused,fused-grouped,"
              + "nd4j-grouped,fused-padded,fused-padded-grouped] [--data PATH]\n  e.g. bench/classifier.sh job --rounds 1 --variants nd4j,fused-grouped");
          System.exit(0);
        }
        default -> throw new IllegalArgumentException("unknown flag " + a + "; expected --epochs, --warmup, --rounds,"
            + " --arch, --variants or --data (see bench/classifier.sh job --help)");
      }
      if (!a.equals(CHILD)) {
        o.passOn.add(a);
        o.passOn.add(args[i]);
      }
    }
    for (String v : o.variants) {
      if (!Set.of("nd4j", "fused", "fused-grouped", "nd4j-grouped", "fused-padded", "fused-padded-grouped").contains(v)) {
        throw new IllegalArgumentException("--variants has '" + v + "'; expected a list of nd4j, fused,"
            + " fused-grouped, nd4j-grouped, fused-padded and fused-padded-grouped, e.g. --variants nd4j,fused-grouped");
      }
    }
    if (!Files.isRegularFile(Path.of(o.data))) {
      throw new IllegalArgumentException("--data " + o.data + " is not a file; run from the repository root or pass"
          + " --data data/sentiment/sentences.jsonl");
    }
    return o;
  }

  /** In the child: runs the job once and prints one RESULT line. */
  private static void runChild(Options o) throws IOException {
    boolean grouped = o.child.endsWith("-grouped");
    List<MetricsEvent> events = new CopyOnWriteArrayList<>();
    Map<Long, Long> cpuAtStep = new ConcurrentHashMap<>(); // step -> this JVM's CPU ns when its event arrived
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    TextClassifier classifier = new TextClassifier().setArchitecture(o.arch).setEpochs(o.epochs).setLr(0.002)
        .setWorldSize(2).setSeed(42).setGroupByLength(grouped).setMetricsSink(e -> {
          if (e.event().equals("step")) {
            cpuAtStep.put((long) e.number("step"), os.getProcessCpuTime());
          }
          events.add(e);
        });
    Path modelDir = Files.createTempDirectory("classifier-job-bench-");
    TrainClassifierJob job = new TrainClassifierJob(o.data, null, "text", classifier, 0.2, 42,
        modelDir.toUri().toString(), true);
    double accuracy;
    long start = System.nanoTime();
    try (SparkJob running = SparkJobConf.of("classifier-job-bench", 2).start()) {
      accuracy = job.run(running).evaluation().orElseThrow().accuracy();
    }
    double wallSeconds = (System.nanoTime() - start) / 1e9;
    Set<Long> checkpointed = new HashSet<>();
    events.stream().filter(e -> e.event().equals("checkpoint")).forEach(e -> checkpointed.add((long) e.number("step")));
    long steps = 0;
    long total = 0;
    double ms = 0;
    double cpuMs = 0;
    double tokens = 0;
    double positions = 0;
    double computeMs = 0;
    double commMs = 0;
    List<double[]> perStep = new ArrayList<>(); // {step, compute, ring wait, rest} ms of each timed step
    for (MetricsEvent e : events) {
      if (!e.event().equals("step")) {
        continue;
      }
      total++;
      long step = (long) e.number("step");
      if (step > o.warmup && !checkpointed.contains(step) && cpuAtStep.containsKey(step - 1)) {
        steps++;
        ms += e.number("step_ms");
        cpuMs += (cpuAtStep.get(step) - cpuAtStep.get(step - 1)) / 1e6;
        tokens += e.number("tokens");
        computeMs += e.number("compute_ms");
        commMs += e.number("comm_exposed_ms");
        positions += e.number("positions");
        double compute = e.number("compute_ms");
        double comm = e.number("comm_exposed_ms");
        perStep.add(new double[] {e.number("step_ms"), compute, comm, e.number("step_ms") - compute - comm});
      }
    }
    if (steps == 0) {
      throw new IllegalStateException("the run had " + total + " steps, none after --warmup " + o.warmup
          + " without a checkpoint; raise --epochs or lower --warmup");
    }
    System.out.println(String.format(Locale.ROOT, "%s %s: %d of %d steps timed, %.1f ms/step (JVM CPU %.1f ms/step),"
        + " %.0f tokens/s (not padding), %.0f positions/s, padding %.1f%% of positions; test accuracy %.4f; job %.1f s",
        o.arch, o.child, steps, total, ms / steps, cpuMs / steps, tokens / (ms / 1e3), positions / (ms / 1e3),
        100 * (1 - tokens / positions), accuracy, wallSeconds));
    System.out.println(String.format(Locale.ROOT, "%s %s: per step compute (forward, backward) %.1f ms, exposed ring wait %.1f ms,"
        + " the rest (clipping, AdamW, the step's small all-reduces, metrics) %.1f ms", o.arch, o.child, computeMs / steps,
        commMs / steps, (ms - computeMs - commMs) / steps));
    // Medians leave out what a mean of a short run keeps: the JIT's first compilations and its
    // recompilation episodes, a step that shared the cores with a checkpoint or the OS.
    System.out.println(String.format(Locale.ROOT, "%s %s: per step medians: step %.1f ms, compute %.1f ms, exposed ring"
        + " wait %.1f ms, rest %.1f ms", o.arch, o.child, median(perStep, 0), median(perStep, 1), median(perStep, 2),
        median(perStep, 3)));
    System.out.println(String.format(Locale.ROOT, "%s %s %d %.3f %.0f %.0f %.4f %.3f %.3f", ChildJvm.RESULT, o.child,
        steps, ms, tokens, positions, accuracy, cpuMs, median(perStep, 0)));
  }

  /** The median of column {@code k} of the rows. */
  private static double median(List<double[]> rows, int k) {
    double[] values = rows.stream().mapToDouble(r -> r[k]).sorted().toArray();
    int n = values.length;
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }

  private static void printTable(Options o, Map<String, List<double[]>> byVariant) {
    List<double[]> today = byVariant.get("nd4j");
    double todayRate = today == null ? 0 : mean(today, 2, 1);
    double todayCpuRate = today == null ? 0 : mean(today, 2, 5);
    System.out.println();
    double todayMedian = today == null ? 0 : meanOf(today, 6);
    System.out.println("| variant | steps timed | ms per step (JVM CPU ms) | tokens/s (not padding) per round | tokens/s"
        + " mean | positions/s mean | padding share | tokens/s / nd4j's | tokens per CPU s / nd4j's | median step ms"
        + " (nd4j's / this) | test accuracy |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
    for (Map.Entry<String, List<double[]>> e : byVariant.entrySet()) {
      List<double[]> rs = e.getValue();
      StringBuilder perRound = new StringBuilder();
      StringBuilder acc = new StringBuilder();
      double[] sum = new double[7];
      for (double[] r : rs) {
        perRound.append(perRound.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", r[2] / (r[1] / 1e3)));
        acc.append(acc.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", r[4]));
        for (int k = 0; k < sum.length; k++) {
          sum[k] += r[k];
        }
      }
      double rate = mean(rs, 2, 1);
      double medianMs = meanOf(rs, 6);
      System.out.println(String.format(Locale.ROOT, "| %s %s | %.0f | %.1f (%.1f) | %s | %.0f | %.0f | %.1f%% | %s | %s | %s | %s |",
          o.arch, e.getKey(), sum[0] / rs.size(), sum[1] / sum[0], sum[5] / sum[0], perRound, rate, mean(rs, 3, 1),
          100 * (1 - sum[2] / sum[3]),
          todayRate > 0 ? String.format(Locale.ROOT, "**%.2fx**", rate / todayRate) : "-",
          todayCpuRate > 0 ? String.format(Locale.ROOT, "%.2fx", mean(rs, 2, 5) / todayCpuRate) : "-",
          String.format(Locale.ROOT, "%.1f", medianMs) + (todayMedian > 0
              ? String.format(Locale.ROOT, " (%.2fx)", todayMedian / medianMs) : ""), acc));
    }
    System.out.println("(rates per round are that round's tokens over its timed seconds; means are of the rounds' rates;"
        + " JVM CPU is the child JVM's CPU time between step events, every thread; the median step is the rounds' mean"
        + " of each round's median step time)");
  }

  /** Mean over the rounds of column {@code k}. */
  private static double meanOf(List<double[]> rows, int k) {
    return rows.stream().mapToDouble(r -> r[k]).average().orElse(0);
  }

  /** Mean over the rounds of column {@code num} per second of column {@code msColumn} (ms). */
  private static double mean(List<double[]> rows, int num, int msColumn) {
    double s = 0;
    for (double[] r : rows) {
      s += r[num] / (r[msColumn] / 1e3);
    }
    return s / rows.size();
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value; see bench/classifier.sh job --help");
    }
    return args[i];
  }

  private static int positive(String flag, String v) {
    int n = Integer.parseInt(v);
    if (n < 1) {
      throw new IllegalArgumentException(flag + " must be at least 1, but found " + n);
    }
    return n;
  }
}
