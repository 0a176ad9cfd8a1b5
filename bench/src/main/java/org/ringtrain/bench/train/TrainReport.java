// Turns the scenarios' measurements into the printed report: a markdown table
// (pasted as-is into docs/benchmarks.md), the data-parallel overhead against
// its 10% target, (a)'s step time split and the share of communication hidden.
package org.ringtrain.bench.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ringtrain.bench.train.Scenario.Measurement;
import org.ringtrain.driver.train.RankResult;

/** Formats the benchmark's results. */
final class TrainReport {
  /** The target: 1 - tokens/s(a) / tokens/s(b) at most this. */
  static final double OVERHEAD_TARGET = 0.10;
  /** The most optimizer sharding may add to a step at N=2 (issue: no more than 3%). */
  static final double SHARDING_TARGET = 0.03;

  private TrainReport() {
  }

  /** All rounds of one scenario as one measurement: sums of steps and times; the last round's facts. */
  static Measurement combine(List<Measurement> rounds) {
    Measurement last = rounds.get(rounds.size() - 1);
    int steps = 0;
    double step = 0;
    double compute = 0;
    double exposed = 0;
    double span = 0;
    double wall = 0;
    boolean identical = true;
    for (Measurement m : rounds) {
      steps += m.steps();
      step += m.stepMs();
      compute += m.computeMs();
      exposed += m.exposedMs();
      span += m.spanMs();
      wall += m.wallSeconds();
      identical &= m.replicasIdentical();
    }
    return new Measurement(last.scenario(), steps, last.tokensPerStep(), step, compute, exposed, span, wall,
        rounds.get(0).firstLoss(), last.lastLoss(), identical, last.ranks(), last.nd4jThreads(),
        last.blasThreads(), last.load());
  }

  /** The markdown table: one row per scenario (and per round when there were several). */
  static String table(List<Measurement> rows, boolean numbered) {
    List<String> out = new ArrayList<>();
    Map<Scenario, Integer> seen = new HashMap<>();
    out.add("| scenario | ranks x threads | micro-batch per rank | tokens/step | timed steps | step ms | tokens/s"
        + " | compute ms | exposed comm ms | other ms | comm span ms | comm hidden | compute-only tokens/s |");
    out.add("|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (Measurement m : rows) {
      Scenario s = m.scenario();
      int round = seen.merge(s, 1, Integer::sum);
      String label = numbered ? s.label() + ", round " + round : s.label();
      out.add(String.format(Locale.ROOT, "| %s | %d x %d | %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s"
          + " | %.0f |", label, s.worldSize(), s.threadsPerRank(), s.microBatch(), m.tokensPerStep(), m.steps(),
          m.stepMs() / m.steps(), m.tokensPerSecond(), m.computeMs() / m.steps(), m.exposedMs() / m.steps(),
          m.otherMs() / m.steps(), m.spanMs() / m.steps(), percentOrDash(m.hiddenFraction()),
          m.computeTokensPerSecond()));
    }
    return String.join("\n", out);
  }

  /**
   * The verdict and the split, in sentences: for each data-parallel scenario (a, a1) against the
   * one-rank reference (b).
   */
  static String summary(Map<String, Measurement> byKey) {
    Measurement b = byKey.get("b");
    List<String> out = new ArrayList<>();
    for (String key : List.of("a", "a1")) {
      Measurement a = byKey.get(key);
      if (a == null) {
        continue;
      }
      String name = "(" + key + ")";
      double overhead = 1 - a.tokensPerSecond() / b.tokensPerSecond();
      double computeGap = 1 - a.computeTokensPerSecond() / b.computeTokensPerSecond();
      out.add(String.format(Locale.ROOT, "- %s data-parallel overhead 1 - tokens/s%s / tokens/s(b) = 1 - %.0f / %.0f"
          + " = %.1f%% (target <= %.0f%%): %s", name, name, a.tokensPerSecond(), b.tokensPerSecond(),
          100 * overhead, 100 * OVERHEAD_TARGET, overhead <= OVERHEAD_TARGET ? "MET" : "MISSED"));
      out.add(String.format(Locale.ROOT, "  - step time %.0f ms = compute (forward + backward) %.0f ms (%.1f%%)"
          + " + exposed communication %.0f ms (%.1f%%) + other overhead %.0f ms (%.1f%%: clipping, AdamW, the"
          + " loss all-reduce, metrics)", a.stepMs() / a.steps(), a.computeMs() / a.steps(),
          100 * a.computeMs() / a.stepMs(), a.exposedMs() / a.steps(), 100 * a.exposedMs() / a.stepMs(),
          a.otherMs() / a.steps(), 100 * a.otherMs() / a.stepMs()));
      out.add(String.format(Locale.ROOT, "  - communication hidden by the overlap 1 - exposed / span = 1 - %.0f / %.0f"
          + " = %s per step", a.exposedMs() / a.steps(), a.spanMs() / a.steps(), percentOrDash(a.hiddenFraction())));
      out.add(String.format(Locale.ROOT, "  - forward + backward alone: %.0f vs (b) %.0f tokens/s, %.1f%% of the"
          + " overhead's %.1f%%", a.computeTokensPerSecond(), b.computeTokensPerSecond(), 100 * computeGap,
          100 * overhead));
    }
    Measurement a = byKey.get("a");
    Measurement z = byKey.get("z");
    if (a != null && z != null) {
      double cost = z.stepMs() / z.steps() / (a.stepMs() / a.steps()) - 1;
      out.add(String.format(Locale.ROOT, "- (z) optimizer sharding's step time cost step_ms(z) / step_ms(a) - 1 = %.0f /"
          + " %.0f - 1 = %.1f%% (target <= %.0f%%): %s", z.stepMs() / z.steps(), a.stepMs() / a.steps(), 100 * cost,
          100 * SHARDING_TARGET, cost <= SHARDING_TARGET ? "MET" : "MISSED"));
    }
    out.add(String.format(Locale.ROOT, "- (b) step time %.0f ms = compute %.0f + exposed %.0f + other %.0f ms"
        + " (one rank: its ring has no peer, so 'span' is only the time from the first bucket to the last)",
        b.stepMs() / b.steps(), b.computeMs() / b.steps(), b.exposedMs() / b.steps(), b.otherMs() / b.steps()));
    return String.join("\n", out);
  }

  /** Per-rank totals of a run (all its steps, warm-up and last included): balance between ranks. */
  static String ranks(Measurement m) {
    List<String> out = new ArrayList<>();
    for (RankResult r : m.ranks()) {
      out.add(String.format(Locale.ROOT, "  %s rank %d: compute %.0f ms, exposed comm %.0f ms, comm span %.0f ms,"
          + " checkpoint %.0f ms, loop wall %.0f ms over %d steps", m.scenario().label(), r.rank(), r.computeMs(),
          r.exposedCommMs(), r.commSpanMs(), r.checkpointMs(), r.wallMs(), r.lastStep() - r.firstStep()));
    }
    return String.join("\n", out);
  }

  private static String percentOrDash(double fraction) {
    return Double.isNaN(fraction) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
  }
}
