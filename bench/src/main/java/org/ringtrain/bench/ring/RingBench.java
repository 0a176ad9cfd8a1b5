// The ring all-reduce benchmark command (bench/ring.sh): ringtrain's ring at
// world sizes 2 and 4 and 1-256 MiB, next to the single-stream loopback TCP
// ceiling and Spark's treeAggregate + broadcast baseline, all in one JVM run so
// that the ratios hold on a shared, noisy machine. It is a command, not a test:
// it asserts nothing beyond the sums being right, and prints to System.out
// because the printed report is its product.
package org.ringtrain.bench.ring;

import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.ringtrain.sync.RingConfig;
import org.ringtrain.sync.RingSecret;
import org.ringtrain.sync.WireCodec;

/**
 * Runs the ring all-reduce benchmark and prints a markdown report; with {@code --docs FILE} also
 * writes it as the "Ring all-reduce (parameter-sync)" section of FILE. Usage:
 * {@code bench/ring.sh [--quick] [options]}, see {@link BenchOptions#USAGE}.
 */
public final class RingBench {
  private RingBench() {
  }

  /** Entry point; exit status 2 on bad arguments. */
  public static void main(String[] args) throws Exception {
    String command = System.getProperty("ringbench.command", "RingBench " + String.join(" ", args));
    BenchOptions options;
    try {
      options = BenchOptions.parse(args, command);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage().equals("help requested") ? BenchOptions.USAGE
          : "bad arguments: " + e.getMessage() + "\n\n" + BenchOptions.USAGE);
      System.exit(2);
      return;
    }
    String loadStart = Timing.loadAverage();
    log("load average " + loadStart + "; " + Machine.describe() + ", " + Machine.maxHeap());
    log(options.describe());

    RingSecret secret = RingSecret.generate();
    List<Double> loopback = new ArrayList<>();
    List<BenchReport.Row> rows = new ArrayList<>();
    List<BenchReport.SweepRow> sweep = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    String sparkVersion = null; // null until a SparkContext has run
    int[] sparkSizes = union(options.sizesMib(), options.bf16SizesMib());

    for (int n : options.worldSizes()) {
      probeLoopback(options, loopback);
      RingConfig base = RingConfig.defaults("ring-bench", secret).withBindHost("127.0.0.1")
          .withSegmentBytes(options.segmentBytes());
      double[] fp32 = RingRun.medianMs(n, base, options.sizesMib(), options.warmup(), options.iters());
      logRows(n, "fp32", options.sizesMib(), fp32);
      double[] bf16 = options.bf16SizesMib().length == 0 ? new double[0]
          : RingRun.medianMs(n, base.withCodec(WireCodec.BF16), options.bf16SizesMib(), options.warmup(),
              options.iters());
      logRows(n, "bf16", options.bf16SizesMib(), bf16);
      for (int segment : options.sweepSegmentBytes()) {
        double ms = RingRun.medianMs(n, base.withSegmentBytes(segment), new int[] {options.sweepMib()},
            options.warmup(), options.iters())[0];
        sweep.add(new BenchReport.SweepRow(n, segment, options.sweepMib(), ms));
        log("N=" + n + " segment " + BenchOptions.mib(segment) + " " + options.sweepMib() + " MiB: ring "
            + BenchReport.fmt(ms, 1) + " ms");
      }
      System.gc(); // give back the ranks' direct buffers before Spark fills the heap

      double[] spark = new double[sparkSizes.length];
      Arrays.fill(spark, Double.NaN);
      if (options.sparkIters() > 0) {
        SparkBaseline.Result result = SparkBaseline.medianMs(n, sparkSizes, options.sparkWarmup(),
            options.sparkIters(), options.sparkBudgetSeconds());
        spark = result.medianMs();
        sparkVersion = result.sparkVersion();
        if (result.recomputed()) {
          warnings.add("at N=" + n + " Spark evicted cached vectors, so its times include remaking them; "
              + "give the JVM more heap (-Xmx in bench/ring.sh)");
        }
        logRows(n, "spark", sparkSizes, spark);
        for (int s = 0; s < sparkSizes.length; s++) {
          if (result.rounds()[s] < options.sparkIters()) {
            warnings.add("Spark at N=" + n + ", " + sparkSizes[s] + " MiB: median of " + result.rounds()[s]
                + " timed round(s), not " + options.sparkIters() + " (--spark-budget-s "
                + options.sparkBudgetSeconds() + ")");
          }
        }
      }
      for (int s = 0; s < options.sizesMib().length; s++) {
        rows.add(new BenchReport.Row(n, options.sizesMib()[s], "fp32", fp32[s],
            spark[indexOf(sparkSizes, options.sizesMib()[s])]));
      }
      for (int s = 0; s < options.bf16SizesMib().length; s++) {
        rows.add(new BenchReport.Row(n, options.bf16SizesMib()[s], "bf16", bf16[s],
            spark[indexOf(sparkSizes, options.bf16SizesMib()[s])]));
      }
    }
    probeLoopback(options, loopback);
    String loadEnd = Timing.loadAverage();

    BenchReport report = new BenchReport(options, loadStart, loadEnd, loopback, rows, sweep, sparkVersion,
        warnings);
    String markdown = report.markdown(LocalDate.now(ZoneOffset.UTC).toString());
    System.out.println();
    System.out.println(markdown);
    Path docs = options.docs();
    if (docs != null) {
      BenchReport.writeSection(docs, markdown);
      log("wrote section '" + BenchReport.HEADING + "' of " + docs);
    }
  }

  private static void probeLoopback(BenchOptions options, List<Double> loopback) throws Exception {
    double[] rates = LoopbackProbe.gbPerSecond(options.loopbackMib(), options.loopbackReps());
    for (double r : rates) {
      loopback.add(r);
    }
    log("loopback single stream: median " + BenchReport.fmt(Timing.median(rates), 2) + " GB/s "
        + Arrays.toString(Arrays.stream(rates).map(r -> Math.round(r * 100) / 100.0).toArray()));
  }

  private static void logRows(int n, String what, int[] sizesMib, double[] ms) {
    for (int s = 0; s < sizesMib.length; s++) {
      log("N=" + n + " " + what + " " + sizesMib[s] + " MiB: " + BenchReport.fmt(ms[s], 1) + " ms");
    }
  }

  /** Progress lines go to stderr so that stdout holds only the report. */
  private static void log(String line) {
    System.err.println("[ring-bench " + Timing.loadAverage() + "] " + line);
  }

  private static int[] union(int[] a, int[] b) {
    TreeSet<Integer> all = new TreeSet<>();
    Arrays.stream(a).forEach(all::add);
    Arrays.stream(b).forEach(all::add);
    return all.stream().mapToInt(Integer::intValue).toArray();
  }

  private static int indexOf(int[] values, int value) {
    for (int i = 0; i < values.length; i++) {
      if (values[i] == value) {
        return i;
      }
    }
    throw new IllegalStateException(value + " is not among " + Arrays.toString(values));
  }
}
