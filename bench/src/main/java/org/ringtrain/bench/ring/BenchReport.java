// Turns the ring benchmark's measurements into one markdown report (printed,
// and optionally written as the ring section of docs/benchmarks.md) and judges
// the issue's targets. It measures nothing itself.
package org.ringtrain.bench.ring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.ringtrain.sync.LinkTransport;

/** The report of one benchmark run. */
final class BenchReport {
  static final String HEADING = "## Ring all-reduce (parameter-sync)";
  static final String INTRO = "# Benchmarks\n\n"
      + "Benchmarks are commands; each prints ratios measured side by side in one run, because the "
      + "machines are shared and absolute numbers drift with their load. Each section records the exact "
      + "command, the machine, the date and the load average next to its table; compare ratios, not "
      + "absolute times, across sections and machines.\n";

  /** Issue 3's targets at 64 MiB, N=2, float32 on the wire; the busbw ceiling is loopback TCP. */
  static final int TARGET_MIB = 64;
  static final int TARGET_N = 2;
  static final double TARGET_BUSBW_FRACTION = 0.60;
  static final double TARGET_SPEEDUP = 5.0;

  /**
   * One row of the main table: {@code transport} is what the ring was configured with, {@code links}
   * what its links used ("unix", "tcp" or "mixed"); {@code sparkMs} is NaN when Spark was not run.
   */
  record Row(int worldSize, int mib, LinkTransport transport, String links, String wire, double ringMs,
      double sparkMs) {
    Row withSparkMs(double ms) {
      return new Row(worldSize, mib, transport, links, wire, ringMs, ms);
    }

    long bytes() {
      return (long) mib << 20;
    }

    double algbw() {
      return Timing.gbPerSecond(bytes(), ringMs);
    }

    double busbw() {
      return algbw() * 2.0 * (worldSize - 1) / worldSize;
    }
  }

  /** One row of the segment sweep. */
  record SweepRow(int worldSize, LinkTransport transport, String links, int segmentBytes, int mib, double ringMs) {
    double busbw() {
      return Timing.gbPerSecond((long) mib << 20, ringMs) * 2.0 * (worldSize - 1) / worldSize;
    }
  }

  private final BenchOptions options;
  private final String loadStart;
  private final String loadEnd;
  private final List<Double> loopbackTcp;
  private final List<Double> loopbackUnix;
  private final List<Row> rows;
  private final List<SweepRow> sweep;
  private final String sparkVersion;
  private final List<String> warnings;

  BenchReport(BenchOptions options, String loadStart, String loadEnd, List<Double> loopbackTcp,
      List<Double> loopbackUnix, List<Row> rows, List<SweepRow> sweep, String sparkVersion, List<String> warnings) {
    this.options = options;
    this.loadStart = loadStart;
    this.loadEnd = loadEnd;
    this.loopbackTcp = List.copyOf(loopbackTcp);
    this.loopbackUnix = List.copyOf(loopbackUnix);
    this.rows = List.copyOf(rows);
    this.sweep = List.copyOf(sweep);
    this.sparkVersion = sparkVersion;
    this.warnings = List.copyOf(warnings);
  }

  /** Median single-stream throughput over every probe of one kind in the run, GB/s. */
  static double medianGbs(List<Double> rates) {
    return rates.isEmpty() ? Double.NaN : Timing.median(rates.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** "median 3.28 GB/s over 15 runs (2.31–3.84)". */
  private static String spread(List<Double> rates) {
    return "median " + fmt(medianGbs(rates), 2) + " GB/s over " + rates.size() + " runs ("
        + fmt(rates.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN), 2) + "–"
        + fmt(rates.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN), 2) + ")";
  }

  /** The report as markdown, starting with {@link #HEADING}. */
  String markdown(String date) {
    double tcpCeiling = medianGbs(loopbackTcp);
    double unixCeiling = medianGbs(loopbackUnix);
    StringBuilder md = new StringBuilder();
    md.append(HEADING).append("\n\n");
    md.append("Command: `").append(options.command()).append("` (main class `")
        .append(RingBench.class.getName()).append("`).\n\n");
    md.append("- Date: ").append(date).append('\n');
    md.append("- Machine: ").append(Machine.describe()).append('\n');
    md.append("- Java ").append(System.getProperty("java.runtime.version")).append(", ")
        .append(sparkVersion == null ? "Spark not run" : "Spark " + sparkVersion + " (local[N])").append(", ")
        .append(Machine.maxHeap()).append('\n');
    md.append("- Load average (1/5/15 min): ").append(loadStart).append(" at start, ").append(loadEnd)
        .append(" at end (the machine is shared)\n");
    md.append("- Settings: ").append(options.describe()).append("\n\n");
    md.append("Every rank is a thread of one JVM. With transport AUTO (the default) ranks on one host link "
        + "over Unix domain sockets, with TCP over loopback TCP; the links column says what the ring "
        + "actually used. A ring time is the median over the timed iterations of the slowest rank's "
        + "all-reduce (SUM), each started right after a barrier. algbw = bytes / time with bytes = the "
        + "float32 vector (also for bf16 rows, which send half as many bytes); busbw = algbw * 2(N-1)/N. "
        + "The ceilings are one stream through a SocketChannel pair (").append(LoopbackProbe.IO_BYTES >> 20)
        .append(" MiB direct-buffer writes, the ring's socket options), measured before each world size and at "
        + "the end: loopback TCP (issue 3's ceiling) ").append(spread(loopbackTcp)).append("; Unix socket ")
        .append(spread(loopbackUnix)).append(". Spark is one float[] per partition in local[N], summed with "
        + "treeAggregate, the sum broadcast and read by every partition in a second job; its time is the "
        + "median of whole rounds (default Java serializer), always float32.\n\n");
    md.append("| N | MiB | links | wire | ring ms | algbw GB/s | busbw GB/s | busbw/loopback TCP "
        + "| busbw/loopback Unix | spark ms | spark/ring |\n");
    md.append("|--:|--:|:--|:--|--:|--:|--:|--:|--:|--:|--:|\n");
    for (Row r : rows) {
      md.append("| ").append(r.worldSize()).append(" | ").append(r.mib()).append(" | ")
          .append(linksLabel(r.transport(), r.links())).append(" | ").append(r.wire())
          .append(" | ").append(fmt(r.ringMs(), 1)).append(" | ").append(fmt(r.algbw(), 2))
          .append(" | ").append(fmt(r.busbw(), 2)).append(" | ").append(fmt(r.busbw() / tcpCeiling, 2))
          .append(" | ").append(fmt(r.busbw() / unixCeiling, 2))
          .append(" | ").append(fmt(r.sparkMs(), 0)).append(" | ").append(times(r.sparkMs() / r.ringMs()))
          .append(" |\n");
    }
    md.append('\n').append(targets(tcpCeiling)).append('\n');
    if (!sweep.isEmpty()) {
      md.append("\nSegment sweep (float32, ").append(options.sweepMib()).append(" MiB):\n\n");
      md.append("| N | links | segment | ring ms | busbw GB/s | busbw/loopback TCP | busbw/loopback Unix |\n"
          + "|--:|:--|--:|--:|--:|--:|--:|\n");
      for (SweepRow s : sweep) {
        md.append("| ").append(s.worldSize()).append(" | ").append(linksLabel(s.transport(), s.links()))
            .append(" | ").append(BenchOptions.mib(s.segmentBytes())).append(" | ").append(fmt(s.ringMs(), 1))
            .append(" | ").append(fmt(s.busbw(), 2)).append(" | ").append(fmt(s.busbw() / tcpCeiling, 2))
            .append(" | ").append(fmt(s.busbw() / unixCeiling, 2)).append(" |\n");
      }
      md.append('\n').append(bestSegments()).append('\n');
    }
    String loaded = loadNote();
    if (loaded != null) {
      md.append('\n').append(loaded).append('\n');
    }
    for (String w : warnings) {
      md.append("\nWarning: ").append(w).append('\n');
    }
    return md.toString();
  }

  /** "unix (AUTO)": the links the ring used, then the transport it was configured with. */
  private static String linksLabel(LinkTransport transport, String links) {
    return links + " (" + transport + ")";
  }

  /**
   * A caution when the 1-minute load average exceeded the CPU count at the start or the end, or
   * null. Loopback TCP costs CPU (kernel copies), and the ring drives N streams plus its adds from
   * N threads where the probe drives one stream from two, so a loaded machine takes more from the
   * ring than from its ceiling.
   */
  String loadNote() {
    int cpus = Runtime.getRuntime().availableProcessors();
    double worst = Math.max(firstField(loadStart), firstField(loadEnd));
    if (Double.isNaN(worst) || worst <= cpus) {
      return null;
    }
    return "Note: the 1-minute load average reached " + fmt(worst, 1) + " on " + cpus + " CPUs during this "
        + "run (other work on the machine). Socket I/O costs CPU (kernel copies), and the ring drives N "
        + "streams plus its adds where the probe drives one stream, so CPU contention takes more from the "
        + "ring than from its ceilings: both the absolute numbers and the busbw/loopback ratios are "
        + "pessimistic. Rerun on a quiet machine before judging the ring against its targets.";
  }

  private static double firstField(String load) {
    try {
      return Double.parseDouble(load.split(" ")[0]);
    } catch (RuntimeException e) {
      return Double.NaN;
    }
  }

  /** The verdict on issue 3's two targets, one line per configured transport and target. */
  String targets(double tcpCeiling) {
    StringBuilder verdicts = new StringBuilder();
    for (LinkTransport transport : options.transports()) {
      Row target = null;
      for (Row r : rows) {
        if (r.worldSize() == TARGET_N && r.mib() == TARGET_MIB && r.wire().equals("fp32")
            && r.transport() == transport) {
          target = r;
        }
      }
      if (target == null) {
        continue;
      }
      String label = linksLabel(transport, target.links());
      double fraction = target.busbw() / tcpCeiling;
      double speedup = target.sparkMs() / target.ringMs();
      verdicts.append("- ").append(label).append(": busbw/loopback TCP ").append(fmt(fraction, 2))
          .append(" (target >= ").append(fmt(TARGET_BUSBW_FRACTION, 2)).append("): ")
          .append(verdict(fraction >= TARGET_BUSBW_FRACTION)).append('\n');
      verdicts.append("- ").append(label).append(": Spark/ring ").append(times(speedup)).append(" (target >= ")
          .append(fmt(TARGET_SPEEDUP, 0)).append("x): ")
          .append(Double.isNaN(speedup) ? "not measured (Spark skipped)" : verdict(speedup >= TARGET_SPEEDUP))
          .append('\n');
    }
    if (verdicts.length() == 0) {
      return "Targets (" + TARGET_MIB + " MiB, N=" + TARGET_N + ", fp32): not measured in this run.";
    }
    return "Targets (" + TARGET_MIB + " MiB, N=" + TARGET_N + ", fp32, against loopback TCP):\n"
        + verdicts.substring(0, verdicts.length() - 1);
  }

  private String bestSegments() {
    List<String> best = new ArrayList<>();
    for (int n : options.worldSizes()) {
      for (LinkTransport transport : options.transports()) {
        SweepRow top = null;
        for (SweepRow s : sweep) {
          if (s.worldSize() == n && s.transport() == transport && (top == null || s.ringMs() < top.ringMs())) {
            top = s;
          }
        }
        if (top != null) {
          best.add("N=" + n + " " + linksLabel(transport, top.links()) + ": " + BenchOptions.mib(top.segmentBytes()));
        }
      }
    }
    return "Fastest segment: " + String.join(", ", best) + ".";
  }

  private static String verdict(boolean met) {
    return met ? "MET" : "MISSED";
  }

  /** A speed-up such as "12.3x", or "–" when not measured. */
  private static String times(double ratio) {
    return Double.isNaN(ratio) ? "–" : fmt(ratio, 1) + "x";
  }

  static String fmt(double v, int decimals) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  /**
   * Puts {@code section} (which starts with {@link #HEADING}) into {@code docs}: replaces the old
   * ring section up to the next "## " heading, or appends it; creates the file with an intro when
   * it does not exist. Other sections are left byte for byte as they are.
   */
  static void writeSection(Path docs, String section) throws IOException {
    String body = section.endsWith("\n") ? section : section + "\n";
    String updated;
    if (!Files.exists(docs)) {
      updated = INTRO + "\n" + body;
    } else {
      String old = Files.readString(docs);
      int start = headingAt(old, HEADING, 0);
      if (start < 0) {
        updated = old + (old.endsWith("\n\n") ? "" : old.endsWith("\n") ? "\n" : "\n\n") + body;
      } else {
        int end = nextLevelTwoHeading(old, start + HEADING.length());
        String rest = end < 0 ? "" : old.substring(end);
        updated = old.substring(0, start) + body + (rest.isEmpty() ? "" : "\n" + rest);
      }
    }
    Files.createDirectories(docs.toAbsolutePath().getParent());
    Files.writeString(docs, updated); // read and written back at once: other sections stay as found
  }

  /** Index of a line that is exactly {@code heading}, or -1. */
  private static int headingAt(String text, String heading, int from) {
    int at = from;
    while (true) {
      int i = text.indexOf(heading, at);
      if (i < 0) {
        return -1;
      }
      boolean lineStart = i == 0 || text.charAt(i - 1) == '\n';
      int after = i + heading.length();
      boolean lineEnd = after == text.length() || text.charAt(after) == '\n' || text.charAt(after) == '\r';
      if (lineStart && lineEnd) {
        return i;
      }
      at = i + 1;
    }
  }

  /** Index of the next line starting with "# " or "## " (not "###") at or after {@code from}, or -1. */
  private static int nextLevelTwoHeading(String text, int from) {
    int at = text.indexOf('\n', from);
    while (at >= 0 && at + 1 < text.length()) {
      int line = at + 1;
      if (text.startsWith("## ", line) || text.startsWith("# ", line)) {
        return line;
      }
      at = text.indexOf('\n', line);
    }
    return -1;
  }
}
