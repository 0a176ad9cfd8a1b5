/*
 * LayerProfile: the per-layer breakdown of one GPT training step (bench/model.sh --profile). It
 * calls the layer functions of org.ringtrain.ops.layers directly, one layer kind at a time, on
 * arrays of the model's own shapes, and prints each kind's time per step next to its FLOPs, its
 * bytes and the time those would take at the machine's sgemm and memcpy rates. It is not a timer
 * inside the model: GptModel and TransformerBlock carry no timing code, so training pays nothing
 * for this profile. The rows and their arrays are ProfileEntries'.
 */
package org.ringtrain.bench.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.ringtrain.ops.gpt.ModelConfig;

/**
 * One row per layer kind and pass. A row's time is the median of {@code reps} timed calls after
 * five warm-up calls, each call on its own (so caches hold only what that layer touched), times
 * the calls per step (e.g. 2 L + 1 LayerNorms). FLOPs count multiply-adds as two; bytes count
 * each float read or written once, the least traffic the layer needs (its memory bound). The
 * bound of a row is {@code max(FLOPs / sgemm rate, bytes / memcpy rate)}, so "% of bound" says how
 * close the layer runs to the faster of the two limits it can hit.
 */
final class LayerProfile {

  /**
   * A layer kind and pass: how often a step runs it, its work, the call to time, and for layers
   * with a fused kernel the layer's ND4J composition ({@code baseline}, else null).
   */
  record Entry(String layer, String pass, int calls, double flops, double bytes, Runnable op, Runnable baseline) {

    Entry(String layer, String pass, int calls, double flops, double bytes, Runnable op) {
      this(layer, pass, calls, flops, bytes, op, null);
    }
  }

  /** A timed entry: median milliseconds per call, and of its ND4J baseline (NaN if none). */
  record Timed(Entry entry, double msPerCall, double baselineMsPerCall) {

    double msPerStep() {
      return msPerCall * entry.calls();
    }
  }

  /** Untimed calls before the timed ones: enough for the JIT to compile the fused kernels' loops. */
  private static final int WARMUP = 5;

  private LayerProfile() {
  }

  /** Times every layer of one step of {@code config} at this batch; see the class comment. */
  static List<Timed> run(ModelConfig config, int batch, int reps) {
    try (ProfileEntries entries = new ProfileEntries()) {
      List<Timed> timed = new ArrayList<>();
      for (Entry e : entries.of(config, batch)) {
        double[] ms = medianMs(e.op(), e.baseline(), reps);
        timed.add(new Timed(e, ms[0], ms[1]));
      }
      return timed;
    }
  }

  /** The report table; {@code stepMs} is the measured step it is compared against. */
  static String table(String name, List<Timed> rows, double sgemmGflops, double memcpyGbps, double stepMs) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%n%s: per-layer profile (sgemm %.1f GFLOP/s, memcpy %.1f GB/s)%n%n",
        name, sgemmGflops, memcpyGbps));
    sb.append("| layer | pass | calls/step | ms/call | ms/step | % of step | GFLOP/step | MB/step | bound ms/step "
        + "| % of bound | ND4J ms/call | ND4J / fused |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    double total = 0;
    double totalBound = 0;
    for (Timed t : rows) {
      Entry e = t.entry();
      double flops = e.flops() * e.calls();
      double bytes = e.bytes() * e.calls();
      double boundMs = Math.max(flops / sgemmGflops / 1e6, bytes / memcpyGbps / 1e6);
      total += t.msPerStep();
      totalBound += boundMs;
      String baseline = Double.isNaN(t.baselineMsPerCall()) ? "| | " : String.format(Locale.ROOT, "| %.3f | %.2fx ",
          t.baselineMsPerCall(), t.baselineMsPerCall() / t.msPerCall());
      sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.1f | %.1f%% | %.2f | %.1f | %.1f | %.0f%% %s|%n",
          e.layer(), e.pass(), e.calls(), t.msPerCall(), t.msPerStep(), 100 * t.msPerStep() / stepMs, flops / 1e9,
          bytes / 1e6, boundMs, 100 * boundMs / t.msPerStep(), baseline));
    }
    sb.append(String.format(Locale.ROOT, "| all rows | | | | %.1f | %.1f%% | | | %.1f | %.0f%% | | |%n", total,
        100 * total / stepMs, totalBound, 100 * totalBound / total));
    sb.append(String.format(Locale.ROOT, "measured step %.1f ms; the rows add up to %.1f ms (the rest: call"
        + " overhead between layers, caches the isolated calls had warm)%n", stepMs, total));
    return sb.toString();
  }

  /**
   * Median milliseconds per call of {@code op} and of {@code baseline} (NaN when null), the two
   * called alternately so that both see the same load on a shared machine.
   */
  private static double[] medianMs(Runnable op, Runnable baseline, int reps) {
    double[] ms = new double[reps];
    double[] baseMs = new double[reps];
    for (int r = -WARMUP; r < reps; r++) {
      long t0 = System.nanoTime();
      op.run();
      long t1 = System.nanoTime();
      if (baseline != null) {
        baseline.run();
      }
      long t2 = System.nanoTime();
      if (r >= 0) {
        ms[r] = (t1 - t0) / 1e6;
        baseMs[r] = (t2 - t1) / 1e6;
      }
    }
    Arrays.sort(ms);
    Arrays.sort(baseMs);
    return new double[] {ms[reps / 2], baseline == null ? Double.NaN : baseMs[reps / 2]};
  }
}
