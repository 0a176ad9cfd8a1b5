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

/** The report of one benchmark run. */
final class BenchReport {
  static final String HEADING = "## Ring all-reduce (parameter-sync)";
  static final String INTRO = "# Benchmarks\n\n"
      + "Benchmarks are commands; each prints ratios measured side by side in one run, because the "
      + "machines are shared and absolute numbers drift with their load. Each section records the exact "
      + "command, the machine, the date and the load average next to its table; compare ratios, not "
      + "absolute times, across sections and machines.\n";

  /** Issue 3's targets at 64 MiB, N=2, float32 on the wire. */
  static final int TARGET_MIB = 64;
  static final int TARGET_N = 2;
  static final double TARGET_BUSBW_FRACTION = 0.60;
  static final double TARGET_SPEEDUP = 5.0;

  /** One row of the main table; {@code sparkMs} is NaN when Spark was not run. */
  record Row(int worldSize, int mib, String wire, double ringMs, double sparkMs) {
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
  record SweepRow(int worldSize, int segmentBytes, int mib, double ringMs) {
    double busbw() {
      return Timing.gbPerSecond((long) mib << 20, ringMs) * 2.0 * (worldSize - 1) / worldSize;
    }
  }

  private final BenchOptions options;
  private final String loadStart;
  private final String loadEnd;
  private final List<Double> loopback;
  private final List<Row> rows;
  private final List<SweepRow> sweep;
  private final String sparkVersion;
  private final List<String> warnings;

  BenchReport(BenchOptions options, String loadStart, String loadEnd, List<Double> loopback, List<Row> rows,
      List<SweepRow> sweep, String sparkVersion, List<String> warnings) {
    this.options = options;
    this.loadStart = loadStart;
    this.loadEnd = loadEnd;
    this.loopback = List.copyOf(loopback);
    this.rows = List.copyOf(rows);
    this.sweep = List.copyOf(sweep);
    this.sparkVersion = sparkVersion;
    this.warnings = List.copyOf(warnings);
  }

  /** Median single-stream loopback throughput over every probe of the run, GB/s. */
  double loopbackGbs() {
    return Timing.median(loopback.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** The report as markdown, starting with {@link #HEADING}. */
  String markdown(String date) {
    double ceiling = loopbackGbs();
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
    md.append("Every rank is a thread of one JVM, connected to its neighbours over loopback TCP. A ring "
        + "time is the median over the timed iterations of the slowest rank's all-reduce (SUM), each "
        + "started right after a barrier. algbw = bytes / time with bytes = the float32 vector (also "
        + "for bf16 rows, which send half as many bytes); busbw = algbw * 2(N-1)/N. The ceiling is one "
        + "TCP stream over loopback (SocketChannel, ").append(LoopbackProbe.IO_BYTES >> 20)
        .append(" MiB direct-buffer writes), measured before each world size and at the end: median ")
        .append(fmt(ceiling, 2)).append(" GB/s over ").append(loopback.size()).append(" runs (")
        .append(fmt(loopback.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN), 2))
        .append("–").append(fmt(loopback.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN), 2))
        .append("). Spark is one float[] per partition in local[N], summed with treeAggregate, the sum "
        + "broadcast and read by every partition in a second job; its time is the median of whole "
        + "rounds (default Java serializer), always float32.\n\n");
    md.append("| N | MiB | wire | ring ms | algbw GB/s | busbw GB/s | busbw/loopback | spark ms | spark/ring |\n");
    md.append("|--:|--:|:--|--:|--:|--:|--:|--:|--:|\n");
    for (Row r : rows) {
      md.append("| ").append(r.worldSize()).append(" | ").append(r.mib()).append(" | ").append(r.wire())
          .append(" | ").append(fmt(r.ringMs(), 1)).append(" | ").append(fmt(r.algbw(), 2))
          .append(" | ").append(fmt(r.busbw(), 2)).append(" | ").append(fmt(r.busbw() / ceiling, 2))
          .append(" | ").append(fmt(r.sparkMs(), 0)).append(" | ").append(times(r.sparkMs() / r.ringMs()))
          .append(" |\n");
    }
    md.append('\n').append(targets(ceiling)).append('\n');
    if (!sweep.isEmpty()) {
      md.append("\nSegment sweep (float32, ").append(options.sweepMib()).append(" MiB):\n\n");
      md.append("| N | segment | ring ms | busbw GB/s | busbw/loopback |\n|--:|--:|--:|--:|--:|\n");
      for (SweepRow s : sweep) {
        md.append("| ").append(s.worldSize()).append(" | ").append(BenchOptions.mib(s.segmentBytes()))
            .append(" | ").append(fmt(s.ringMs(), 1)).append(" | ").append(fmt(s.busbw(), 2)).append(" | ")
            .append(fmt(s.busbw() / ceiling, 2)).append(" |\n");
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
        + "run (other work on the machine). Loopback TCP costs CPU (kernel copies), and the ring drives N "
        + "streams plus its adds where the probe drives one stream, so CPU contention takes more from the "
        + "ring than from its ceiling: both the absolute numbers and the busbw/loopback ratios are "
        + "pessimistic. Rerun on a quiet machine before judging the ring against its targets.";
  }

  private static double firstField(String load) {
    try {
      return Double.parseDouble(load.split(" ")[0]);
    } catch (RuntimeException e) {
      return Double.NaN;
    }
  }

  /** The verdict on issue 3's two targets, one line each. */
  String targets(double ceiling) {
    Row target = null;
    for (Row r : rows) {
      if (r.worldSize() == TARGET_N && r.mib() == TARGET_MIB && r.wire().equals("fp32")) {
        target = r;
      }
    }
    if (target == null) {
      return "Targets (" + TARGET_MIB + " MiB, N=" + TARGET_N + ", fp32): not measured in this run.";
    }
    double fraction = target.busbw() / ceiling;
    double speedup = target.sparkMs() / target.ringMs();
    return "Targets (" + TARGET_MIB + " MiB, N=" + TARGET_N + ", fp32):\n"
        + "- busbw/loopback " + fmt(fraction, 2) + " (target >= " + fmt(TARGET_BUSBW_FRACTION, 2) + "): "
        + verdict(fraction >= TARGET_BUSBW_FRACTION) + "\n"
        + "- Spark/ring " + times(speedup) + " (target >= " + fmt(TARGET_SPEEDUP, 0) + "x): "
        + (Double.isNaN(speedup) ? "not measured (Spark skipped)" : verdict(speedup >= TARGET_SPEEDUP));
  }

  private String bestSegments() {
    List<String> best = new ArrayList<>();
    for (int n : options.worldSizes()) {
      SweepRow top = null;
      for (SweepRow s : sweep) {
        if (s.worldSize() == n && (top == null || s.ringMs() < top.ringMs())) {
          top = s;
        }
      }
      if (top != null) {
        best.add("N=" + n + ": " + BenchOptions.mib(top.segmentBytes()));
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
