/*
 * ClassifierBench: training steps (forward, backward, AdamW) of the text classifiers, LSTM and
 * Transformer, at the text-classification job's default settings, timed with the fused float32
 * kernels and with the ND4J compositions side by side in one run, with the ratio. It is a command,
 * not a test, and it does not check numerical results (the worker-ops tests do).
 */
package org.ringtrain.bench.model;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ringtrain.ops.classify.ClassifierConfig;
import org.ringtrain.ops.classify.ClassifierConfig.Architecture;
import org.ringtrain.ops.classify.SequenceClassifier;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.runtime.Nd4jRuntime;

/**
 * Usage: {@code bench/classifier.sh [--quick] [--steps N] [--warmup W] [--rounds R] [--archs lstm,transformer]
 * [--threads N] [--op-threads N] [--batch B]}.
 *
 * <p>The model is the job's default (TextClassifier and train-classifier: d = 64, 2 layers, 4
 * heads, maxLen 64, vocabulary 20000, batch 32 rows per rank; 2 classes), every row a full 64
 * tokens (texts are truncated to maxLen, so most rows of a real corpus are), and a rank's default
 * thread policy (one BLAS thread per rank: spark.task.cpus = 1; libnd4j's op pool on 1).
 *
 * <p>Whether the fused kernels run is decided once per JVM ({@link Fused#AVAILABLE}), so this
 * command runs each measurement in a child JVM with this JVM's flags and class path, alternately
 * fused and with {@code -Dringtrain.kernels.nd4j=true} ({@code --rounds} pairs, default 2), so
 * both paths see the same load drift on a shared machine. Tokens/s counts every token of a step.
 * {@code --quick} is 1 round of 4 timed steps after 3 warm-up steps.
 */
public final class ClassifierBench {

  private static final String CHILD = "--child";
  private static final String RESULT = ChildJvm.RESULT;

  private ClassifierBench() {
  }

  /** Parsed flags; defaults as in the class comment. */
  private static final class Options {
    int steps = 12;
    int warmup = 4;
    int rounds = 2;
    String archs = "lstm,transformer";
    int threads = 1;
    int opThreads = 1;
    int batch = 32;
    boolean child;
    List<String> passOn = new ArrayList<>();
  }

  /** Runs the benchmark; see the class comment for the flags. */
  public static void main(String[] args) throws IOException, InterruptedException {
    Options o = parse(args);
    if (o.child) {
      runChild(o);
      return;
    }
    System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (nproc), " + cpuModel()
        + "; BLAS threads " + o.threads + ", op threads " + o.opThreads + ", load average " + loadAverage());
    Map<String, List<double[]>> byKey = new LinkedHashMap<>(); // "arch path" -> per round {fwd, bwd, opt, tok/s}
    for (int round = 0; round < o.rounds; round++) {
      for (boolean fused : new boolean[] {true, false}) {
        for (String line : child(o, fused)) {
          String[] f = line.split(" ");
          byKey.computeIfAbsent(f[1] + " " + f[2], k -> new ArrayList<>()).add(new double[] {
              Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6])});
        }
      }
    }
    System.out.println();
    System.out.println("| model | kernels | step ms (fwd / bwd / AdamW), mean of rounds | tokens/s per round | tokens/s"
        + " mean | best | fused / ND4J, means | bests |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (String arch : o.archs.split(",")) {
      List<double[]> fusedRounds = byKey.get(arch + " fused");
      for (String path : new String[] {"fused", "nd4j"}) {
        List<double[]> rs = byKey.get(arch + " " + path);
        if (rs == null || fusedRounds == null) {
          throw new IllegalStateException("no result for " + arch + " " + path + "; see the child's output above");
        }
        StringBuilder perRound = new StringBuilder();
        for (double[] r : rs) {
          perRound.append(perRound.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", r[3]));
        }
        boolean nd4j = path.equals("nd4j");
        System.out.println(String.format(Locale.ROOT, "| %s | %s | %.1f (%.1f / %.1f / %.1f) | %s | %.0f | %.0f | %s | %s |",
            arch, nd4j ? "ND4J" : "fused", mean(rs, 0) + mean(rs, 1) + mean(rs, 2), mean(rs, 0), mean(rs, 1),
            mean(rs, 2), perRound, mean(rs, 3), best(rs),
            nd4j ? String.format(Locale.ROOT, "**%.2fx**", mean(fusedRounds, 3) / mean(rs, 3)) : "",
            nd4j ? String.format(Locale.ROOT, "%.2fx", best(fusedRounds) / best(rs)) : ""));
      }
    }
    System.out.println("load average at the end " + loadAverage());
  }

  private static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> {
          o.steps = 4;
          o.warmup = 3;
          o.rounds = 1;
        }
        case "--steps" -> o.steps = Integer.parseInt(args[++i]);
        case "--warmup" -> o.warmup = Integer.parseInt(args[++i]);
        case "--rounds" -> o.rounds = Integer.parseInt(args[++i]);
        case "--archs" -> o.archs = args[++i];
        case "--threads" -> o.threads = Integer.parseInt(args[++i]);
        case "--op-threads" -> o.opThreads = Integer.parseInt(args[++i]);
        case "--batch" -> o.batch = Integer.parseInt(args[++i]);
        case CHILD -> o.child = true;
        default -> {
          System.err.println("usage: bench/classifier.sh [--quick (1 round, 4 steps)] [--steps N (default 12)]"
              + " [--warmup W (default 4)] [--rounds R (fused/ND4J pairs, default 2)] [--archs lstm,transformer]"
              + " [--threads N (BLAS, default 1 = a rank's)] [--op-threads N (default 1)] [--batch B (default 32)]\n"
              + "  e.g. bench/classifier.sh --quick --archs lstm");
          System.exit(a.equals("--help") ? 0 : 2);
        }
      }
      if (!a.equals(CHILD)) {
        o.passOn.add(a);
        if (!a.equals("--quick")) {
          o.passOn.add(args[i]); // the flag's value
        }
      }
    }
    return o;
  }

  /** Runs this class in a child JVM on one kernel path and returns its RESULT lines. */
  private static List<String> child(Options o, boolean fused) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>();
    args.add(CHILD);
    args.addAll(o.passOn);
    return ChildJvm.run(ClassifierBench.class, !fused, args);
  }

  /** In the child: times every architecture on this JVM's kernel path and prints RESULT lines. */
  private static void runChild(Options o) {
    Nd4jRuntime.useThreads(new Nd4jRuntime.Threads(o.threads, o.opThreads));
    String path = Fused.AVAILABLE ? "fused" : "nd4j";
    for (String arch : o.archs.split(",")) {
      ClassifierConfig config = new ClassifierConfig(Architecture.parse(arch), 20000, 64, 64, 2, 4, 2);
      double[] ms = time(config, o.batch, o.steps, o.warmup);
      double tokensPerSecond = (double) o.batch * config.maxLen() / ((ms[0] + ms[1] + ms[2]) / 1e3);
      System.out.println(String.format(Locale.ROOT, "%s %s: B=%d T=%d step %.1f ms (fwd %.1f, bwd %.1f, adamw %.1f)"
          + " tokens/s %.0f; this thread's CPU %.1f ms/step", arch, path, o.batch, config.maxLen(),
          ms[0] + ms[1] + ms[2], ms[0], ms[1], ms[2], tokensPerSecond, ms[3]));
      System.out.println(String.format(Locale.ROOT, "%s %s %s %.3f %.3f %.3f %.1f", RESULT, arch, path, ms[0], ms[1],
          ms[2], tokensPerSecond));
    }
  }

  /**
   * Mean ms per step of forward, backward and AdamW over {@code steps} steps after {@code warmup},
   * and the CPU ms per step of this thread: with one BLAS, op-pool and kernel thread (the default)
   * every op runs on it, so on a loaded machine this is the work itself, without the waits for a core.
   */
  private static double[] time(ClassifierConfig config, int batch, int steps, int warmup) {
    int maxLen = config.maxLen();
    int[] tokens = new int[batch * maxLen];
    int[] labels = new int[batch];
    SplitMix64 rng = new SplitMix64(7);
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = 2 + (int) (rng.nextDouble() * (config.vocabSize() - 2)); // no PAD, no UNK
    }
    for (int b = 0; b < batch; b++) {
      labels[b] = b % config.numClasses();
    }
    double[] ms = new double[4];
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    try (SequenceClassifier model = SequenceClassifier.initialised(config, 42);
        AdamW adam = new AdamW(model.layout())) {
      for (int s = 0; s < warmup + steps; s++) {
        long c0 = cpu.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        model.zeroGrad();
        model.forward(tokens, labels, batch);
        long t1 = System.nanoTime();
        model.backward(null);
        long t2 = System.nanoTime();
        adam.step(model.params().flat(), model.grads().flat(), 1e-3);
        long t3 = System.nanoTime();
        if (s >= warmup) {
          ms[0] += (t1 - t0) / 1e6 / steps;
          ms[1] += (t2 - t1) / 1e6 / steps;
          ms[2] += (t3 - t2) / 1e6 / steps;
          ms[3] += (cpu.getCurrentThreadCpuTime() - c0) / 1e6 / steps;
        }
      }
    }
    return ms;
  }

  private static double mean(List<double[]> rows, int column) {
    double s = 0;
    for (double[] r : rows) {
      s += r[column];
    }
    return s / rows.size();
  }

  /** The highest tokens/s of the rounds: the least disturbed by other work on a shared machine. */
  private static double best(List<double[]> rows) {
    double b = 0;
    for (double[] r : rows) {
      b = Math.max(b, r[3]);
    }
    return b;
  }

  private static String cpuModel() {
    for (String line : lines("/proc/cpuinfo")) {
      if (line.startsWith("model name")) {
        return line.substring(line.indexOf(':') + 1).trim();
      }
    }
    return "unknown CPU model";
  }

  private static String loadAverage() {
    List<String> l = lines("/proc/loadavg");
    return l.isEmpty() ? "unknown" : l.get(0).substring(0, l.get(0).indexOf(' '));
  }

  private static List<String> lines(String path) {
    try {
      return Files.readAllLines(Path.of(path));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }
}
