/*
 * ModelBench: trains the GPT decoder single-process for a few steps on the tiny and small configs
 * and prints tokens/s, model FLOPs per token, achieved GFLOP/s and MFU against ND4J's sgemm
 * measured in the same run on the model's own matmul shapes. It is a command, not a test, and it
 * does not check numerical results (the worker-ops tests do).
 */
package org.ringtrain.bench.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.runtime.Nd4jRuntime.Gemm;
import org.ringtrain.ops.runtime.Nd4jRuntime;

/**
 * Usage: {@code bench/model.sh [--steps N] [--warmup W] [--configs tiny,small] [--threads N]
 * [--op-threads N] [--profile]}. {@code --threads} (default: all cores) sets OpenBLAS's and OpenMP's threads,
 * {@code --op-threads} (default 1) libnd4j's own pool for the other ops: the same policy and knobs
 * as a training rank. {@code --profile} adds, per config, the per-layer table of
 * {@link LayerProfile} (time per layer kind next to its FLOPs, bytes and bound).
 *
 * <p>Model FLOPs per token follow the PaLM paper, appendix B (and nanoGPT's estimate_mfu):
 * {@code 6 N + 12 L C T}, where N counts the parameters that take part in matmuls (all but the
 * position embedding wpe; wte counts once, as the tied LM head), L the layers, C the width and T
 * the sequence length (the attention scores and the weighted sum, forward and backward).
 * MFU = achieved model GFLOP/s / ND4J sgemm GFLOP/s on the model's matmul shapes, both measured here.
 */
public final class ModelBench {

  private ModelBench() {
  }

  /** One row of the report. */
  record Row(String name, ModelConfig config, int batch, long params, double flopsPerToken, double stepMs,
      double fwdMs, double bwdMs, double optMs, double tokensPerSecond, double achievedGflops, double sgemmGflops,
      long stateBytes, long activationBytes) {
  }

  /** Runs the benchmark; see the class comment for the flags. */
  public static void main(String[] args) {
    int steps = 10;
    int warmup = 3;
    String configs = "tiny,small";
    int threads = Runtime.getRuntime().availableProcessors();
    int opThreads = 1;
    boolean profile = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--steps" -> steps = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--configs" -> configs = args[++i];
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--op-threads" -> opThreads = Integer.parseInt(args[++i]);
        case "--profile" -> profile = true;
        default -> {
          System.err.println("usage: bench/model.sh [--steps N (default 10)] [--warmup W (default 3)]"
              + " [--configs tiny,small] [--threads N (BLAS and OpenMP, default all cores)]"
              + " [--op-threads N (libnd4j's op pool, default 1)] [--profile (per-layer table)]\n"
              + "  The defaults are the trainer's per-rank policy (TrainConfig threadsPerRank, opThreadsPerRank).\n"
              + "  e.g. bench/model.sh --steps 20 --configs small --threads 1");
          System.exit(args[i].equals("--help") ? 0 : 2);
        }
      }
    }
    // The same knobs, set the same way, as a training rank.
    Nd4jRuntime.useThreads(new Nd4jRuntime.Threads(threads, opThreads));
    System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (nproc), " + cpuModel()
        + "; BLAS and OpenMP threads " + threads + ", op threads " + opThreads + ", OMP_NUM_THREADS="
        + System.getenv().getOrDefault("OMP_NUM_THREADS", "unset") + ", load average " + loadAverage());
    List<Row> rows = new ArrayList<>();
    List<String> profiles = new ArrayList<>();
    double memcpy = profile ? memcpyGbps(threads) : 0;
    for (String name : configs.split(",")) {
      ModelConfig config = switch (name) {
        case "tiny" -> ModelConfig.tiny();
        case "small" -> ModelConfig.small();
        default -> throw new IllegalArgumentException("unknown config '" + name + "'; use tiny or small");
      };
      int batch = name.equals("tiny") ? 16 : 8;
      rows.add(run(name, config, batch, config.contextLength(), steps, warmup));
      Row row = rows.get(rows.size() - 1);
      System.out.println(format(row));
      if (profile) {
        List<LayerProfile.Timed> layers = LayerProfile.run(config, batch, 7);
        profiles.add(LayerProfile.table(name + " (B=" + batch + ", T=" + config.contextLength() + ")", layers,
            row.sgemmGflops(), memcpy, row.stepMs()));
      }
    }
    profiles.forEach(System.out::print);
    System.out.println();
    System.out.println("| config | B x T | params | model FLOPs/token | step ms (fwd / bwd / AdamW) | tokens/s "
        + "| achieved GFLOP/s | sgemm GFLOP/s | MFU |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (Row r : rows) {
      System.out.println(String.format(Locale.ROOT, "| %s | %d x %d | %,d | %.1f M | %.0f (%.0f / %.0f / %.0f) | %.0f "
          + "| %.1f | %.1f | %.0f%% |", r.name(), r.batch(), r.config().contextLength(), r.params(),
          r.flopsPerToken() / 1e6, r.stepMs(), r.fwdMs(), r.bwdMs(), r.optMs(), r.tokensPerSecond(),
          r.achievedGflops(), r.sgemmGflops(), 100 * r.achievedGflops() / r.sgemmGflops()));
    }
    System.out.println();
    for (Row r : rows) {
      System.out.println(String.format(Locale.ROOT, "%s: off-heap ND4J arrays held: parameters + gradients"
          + " + AdamW m, v %.1f MiB, activations %.1f MiB", r.name(), r.stateBytes() / 1048576.0,
          r.activationBytes() / 1048576.0));
    }
    System.out.println(String.format(Locale.ROOT, "peak RSS %.0f MiB (max heap %.1f GiB)", peakRssKib() / 1024.0,
        Runtime.getRuntime().maxMemory() / 1073741824.0));
  }

  private static Row run(String name, ModelConfig config, int batch, int seqLen, int steps, int warmup) {
    int n = batch * seqLen;
    SplitMix64 rng = new SplitMix64(7);
    int[] inputs = new int[n];
    int[] targets = new int[n];
    for (int i = 0; i < n; i++) {
      inputs[i] = (int) (rng.nextDouble() * config.vocabSize());
      targets[i] = (int) (rng.nextDouble() * config.vocabSize());
    }
    try (GptModel model = GptModel.initialised(config, 1); AdamW adam = new AdamW(model.layout())) {
      long params = model.layout().totalElements();
      long matmulParams = params - model.layout().get("wpe.weight").length();
      double flopsPerToken = 6.0 * matmulParams + 12.0 * config.layers() * config.dModel() * seqLen;
      double sgemmBefore = sgemmGflops(config, n);
      double fwd = 0;
      double bwd = 0;
      double opt = 0;
      for (int s = 0; s < warmup + steps; s++) {
        long t0 = System.nanoTime();
        model.zeroGrad();
        model.forward(inputs, targets, batch, seqLen);
        long t1 = System.nanoTime();
        model.backward();
        long t2 = System.nanoTime();
        adam.step(model.params().flat(), model.grads().flat(), 3e-4);
        long t3 = System.nanoTime();
        if (s >= warmup) {
          fwd += (t1 - t0) / 1e6;
          bwd += (t2 - t1) / 1e6;
          opt += (t3 - t2) / 1e6;
        }
      }
      double sgemmAfter = sgemmGflops(config, n);
      double stepMs = (fwd + bwd + opt) / steps;
      double tokensPerSecond = n / (stepMs / 1e3);
      double achieved = flopsPerToken * tokensPerSecond / 1e9;
      long stateBytes = 16L * params; // float32 params, grads, AdamW's m and v (the fused step needs no scratch)
      return new Row(name, config, batch, params, flopsPerToken, stepMs, fwd / steps, bwd / steps, opt / steps,
          tokensPerSecond, achieved, (sgemmBefore + sgemmAfter) / 2, stateBytes, model.activationBytes());
    }
  }

  /**
   * ND4J sgemm throughput on the model's own matmul shapes at this batch (qkv, attention
   * projection, MLP up, MLP down), forward orientation, into preallocated outputs: total FLOPs
   * over total time of the best of three rounds of five multiplies per shape.
   */
  static double sgemmGflops(ModelConfig config, int rows) {
    int c = config.dModel();
    return Nd4jRuntime.sgemmGflops(List.of(new Gemm(rows, c, 3 * c), new Gemm(rows, c, c), new Gemm(rows, c, 4 * c),
        new Gemm(rows, 4 * c, c)), 3, 5);
  }

  /**
   * Bytes moved per second (read plus write) by memcpy between two 64 MiB direct buffers on
   * {@code threads} threads, each copying its own slice: the memory bound of the profile's rows.
   * Best of 5.
   */
  static double memcpyGbps(int threads) {
    int bytes = 64 << 20;
    ByteBuffer src = ByteBuffer.allocateDirect(bytes);
    ByteBuffer dst = ByteBuffer.allocateDirect(bytes);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      double best = 0;
      for (int round = 0; round < 6; round++) {
        List<Future<?>> parts = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < threads; i++) {
          int from = (int) ((long) bytes * i / threads);
          int to = (int) ((long) bytes * (i + 1) / threads);
          parts.add(pool.submit(() -> dst.slice(from, to - from).put(src.slice(from, to - from))));
        }
        for (Future<?> part : parts) {
          part.get();
        }
        double gbps = 2.0 * bytes / (System.nanoTime() - t0);
        best = round == 0 ? 0 : Math.max(best, gbps); // round 0 touches the pages for the first time
      }
      return best;
    } catch (InterruptedException | ExecutionException e) {
      throw new IllegalStateException("memcpy probe failed: " + e, e);
    } finally {
      pool.shutdown();
    }
  }

  private static String format(Row r) {
    return String.format(Locale.ROOT, "%s: B=%d T=%d params=%,d flops/token=%.1fM step=%.1fms (fwd %.1f, bwd %.1f,"
        + " adamw %.1f) tokens/s=%.0f achieved=%.1f GFLOP/s sgemm=%.1f GFLOP/s MFU=%.0f%%", r.name(), r.batch(),
        r.config().contextLength(), r.params(), r.flopsPerToken() / 1e6, r.stepMs(), r.fwdMs(), r.bwdMs(), r.optMs(),
        r.tokensPerSecond(), r.achievedGflops(), r.sgemmGflops(), 100 * r.achievedGflops() / r.sgemmGflops());
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
    return l.isEmpty() ? "unknown" : l.get(0).substring(0, l.get(0).indexOf(' ', l.get(0).indexOf(' ') + 1));
  }

  private static long peakRssKib() {
    for (String line : lines("/proc/self/status")) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private static List<String> lines(String path) {
    try {
      return Files.readAllLines(Path.of(path));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }
}
