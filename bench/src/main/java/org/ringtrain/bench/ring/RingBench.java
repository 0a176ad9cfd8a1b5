// The ring all-reduce benchmark command (bench/ring.sh): ringtrain's ring at
// world sizes 2 and 4 and 1-256 MiB, over Unix domain sockets (AUTO) and over
// TCP, next to the single-stream loopback TCP and Unix socket ceilings and
// Spark's treeAggregate + broadcast baseline, and the cost of each frame
// protection (none, integrity, encryption) side by side, all in one JVM run so
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
import org.ringtrain.sync.LinkTransport;
import org.ringtrain.sync.RingConfig;
import org.ringtrain.sync.RingProtection;
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
    List<Double> loopbackTcp = new ArrayList<>();
    List<Double> loopbackUnix = new ArrayList<>();
    List<BenchReport.Row> rows = new ArrayList<>();
    List<BenchReport.SweepRow> sweep = new ArrayList<>();
    List<ProtectionTable.Row> protection = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    String sparkVersion = null; // null until a SparkContext has run
    int[] sparkSizes = union(options.sizesMib(), options.bf16SizesMib());

    for (int n : options.worldSizes()) {
      probeLoopback(options, loopbackTcp, loopbackUnix);
      List<BenchReport.Row> ringRows = new ArrayList<>(); // Spark times are filled in below
      for (LinkTransport transport : options.transports()) {
        RingConfig base = RingConfig.defaults("ring-bench", secret).withBindHost("127.0.0.1")
            .withSegmentBytes(options.segmentBytes()).withTransport(transport);
        RingRun.Result fp32 = RingRun.medianMs(n, base, options.sizesMib(), options.warmup(), options.iters());
        logRows(n, transport, fp32, "fp32", options.sizesMib());
        for (int s = 0; s < options.sizesMib().length; s++) {
          ringRows.add(new BenchReport.Row(n, options.sizesMib()[s], transport, fp32.links(), "fp32",
              fp32.medianMs()[s], Double.NaN));
        }
        if (options.bf16SizesMib().length > 0) {
          RingRun.Result bf16 = RingRun.medianMs(n, base.withCodec(WireCodec.BF16), options.bf16SizesMib(),
              options.warmup(), options.iters());
          logRows(n, transport, bf16, "bf16", options.bf16SizesMib());
          for (int s = 0; s < options.bf16SizesMib().length; s++) {
            ringRows.add(new BenchReport.Row(n, options.bf16SizesMib()[s], transport, bf16.links(), "bf16",
                bf16.medianMs()[s], Double.NaN));
          }
        }
        for (int segment : options.sweepSegmentBytes()) {
          RingRun.Result r = RingRun.medianMs(n, base.withSegmentBytes(segment), new int[] {options.sweepMib()},
              options.warmup(), options.iters());
          sweep.add(new BenchReport.SweepRow(n, transport, r.links(), segment, options.sweepMib(), r.medianMs()[0]));
          log("N=" + n + " " + transport + " (" + r.links() + ") segment " + BenchOptions.mib(segment) + " "
              + options.sweepMib() + " MiB: ring " + BenchReport.fmt(r.medianMs()[0], 1) + " ms");
        }
        measureProtection(n, transport, base, options, protection);
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
        for (int s = 0; s < sparkSizes.length; s++) {
          log("N=" + n + " spark " + sparkSizes[s] + " MiB: " + BenchReport.fmt(spark[s], 1) + " ms");
          if (result.rounds()[s] < options.sparkIters()) {
            warnings.add("Spark at N=" + n + ", " + sparkSizes[s] + " MiB: median of " + result.rounds()[s]
                + " timed round(s), not " + options.sparkIters() + " (--spark-budget-s "
                + options.sparkBudgetSeconds() + ")");
          }
        }
      }
      for (BenchReport.Row r : ringRows) {
        rows.add(r.withSparkMs(spark[indexOf(sparkSizes, r.mib())]));
      }
    }
    probeLoopback(options, loopbackTcp, loopbackUnix);
    String loadEnd = Timing.loadAverage();

    BenchReport report = new BenchReport(options, loadStart, loadEnd, loopbackTcp, loopbackUnix, rows, sweep,
        sparkVersion, warnings);
    String markdown = report.markdown(LocalDate.now(ZoneOffset.UTC).toString()) + ProtectionTable.markdown(protection);
    System.out.println();
    System.out.println(markdown);
    Path docs = options.docs();
    if (docs != null) {
      BenchReport.writeSection(docs, markdown);
      log("wrote section '" + BenchReport.HEADING + "' of " + docs);
    }
  }

  /** Each of {@code options.protectionMib()} with every {@link ProtectionTable#MODES mode}, one ring per mode. */
  private static void measureProtection(int n, LinkTransport transport, RingConfig base, BenchOptions options,
      List<ProtectionTable.Row> rows) throws Exception {
    int[] sizes = options.protectionMib();
    if (sizes.length == 0) {
      return;
    }
    double[][] ms = new double[sizes.length][ProtectionTable.MODES.length];
    String links = null;
    for (int m = 0; m < ProtectionTable.MODES.length; m++) {
      RingProtection mode = ProtectionTable.MODES[m];
      RingRun.Result r = RingRun.medianMs(n, base.withProtection(mode), sizes, options.warmup(), options.iters());
      links = r.links();
      for (int s = 0; s < sizes.length; s++) {
        ms[s][m] = r.medianMs()[s];
        log("N=" + n + " " + transport + " (" + links + ") protection " + mode + " " + sizes[s] + " MiB: ring "
            + BenchReport.fmt(ms[s][m], 1) + " ms");
      }
    }
    for (int s = 0; s < sizes.length; s++) {
      rows.add(new ProtectionTable.Row(n, sizes[s], transport, links, ms[s]));
    }
  }

  private static void probeLoopback(BenchOptions options, List<Double> tcp, List<Double> unix) throws Exception {
    for (LoopbackProbe.Kind kind : LoopbackProbe.Kind.values()) {
      double[] rates = LoopbackProbe.gbPerSecond(kind, options.loopbackMib(), options.loopbackReps());
      for (double r : rates) {
        (kind == LoopbackProbe.Kind.TCP ? tcp : unix).add(r);
      }
      log(kind.label + " single stream: median " + BenchReport.fmt(Timing.median(rates), 2) + " GB/s "
          + Arrays.toString(Arrays.stream(rates).map(r -> Math.round(r * 100) / 100.0).toArray()));
    }
  }

  private static void logRows(int n, LinkTransport transport, RingRun.Result result, String wire, int[] sizesMib) {
    for (int s = 0; s < sizesMib.length; s++) {
      log("N=" + n + " " + transport + " (" + result.links() + ") " + wire + " " + sizesMib[s] + " MiB: "
          + BenchReport.fmt(result.medianMs()[s], 1) + " ms");
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
