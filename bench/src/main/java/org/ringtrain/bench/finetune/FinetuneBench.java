// Full fine-tuning against LoRA, side by side in one JVM on one rank: the
// same GPT, the same batches, alternating rounds so that load on a shared
// machine hits both alike. It measures what a step costs on a rank (forward,
// backward, AdamW); what the ring carries per step follows from the size of
// the trainable gradient buffer, which is all the ring all-reduces.
package org.ringtrain.bench.finetune;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import org.ringtrain.bench.train.LoadAverage;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.lora.LoraConfig;
import org.ringtrain.ops.lora.LoraModel;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.ops.runtime.Nd4jRuntime;

/**
 * Usage: {@code bench/finetune.sh [--preset small|124m] [--batch B] [--seq T] [--steps N] [--rounds R]
 * [--rank r] [--targets c_attn,...]}. Defaults: small, B 8, T = the preset's context, 5 timed steps
 * after 2 warm-up steps per round, 2 rounds, rank 8, c_attn. Prints a table with the full and LoRA
 * columns and their ratio. {@code --steps 0} prints the parameter and byte rows from the two
 * layouts only, without building a model (quick for the 124M preset).
 */
public final class FinetuneBench {

  private static final OperatingSystemMXBean CPU =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private FinetuneBench() {
  }

  /** Runs the benchmark; see the class comment for the flags. */
  public static void main(String[] args) {
    String preset = "small";
    int batch = 8;
    int seq = 0;
    int steps = 5;
    int rounds = 2;
    int rank = LoraConfig.DEFAULT_RANK;
    String targets = LoraConfig.DEFAULT_TARGETS;
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--help") || args[i].equals("-h")) {
        System.out.println("usage: bench/finetune.sh [--preset small|124m (default small)] [--batch B (default 8)]"
            + " [--seq T (default: the preset's context)] [--steps N (default 5)] [--rounds R (default 2)]"
            + " [--rank R (default " + LoraConfig.DEFAULT_RANK + ")] [--targets LIST (default "
            + LoraConfig.DEFAULT_TARGETS + ")]\n  e.g. bench/finetune.sh --preset 124m --batch 1 --seq 256 --steps 2"
            + " --rounds 1");
        return;
      }
      String value = i + 1 < args.length ? args[i + 1] : null;
      if (value == null) {
        throw new IllegalArgumentException(args[i] + " needs a value; see the usage in bench/finetune.sh");
      }
      switch (args[i]) {
        case "--preset" -> preset = value;
        case "--batch" -> batch = Integer.parseInt(value);
        case "--seq" -> seq = Integer.parseInt(value);
        case "--steps" -> steps = Integer.parseInt(value);
        case "--rounds" -> rounds = Integer.parseInt(value);
        case "--rank" -> rank = Integer.parseInt(value);
        case "--targets" -> targets = value;
        default -> throw new IllegalArgumentException("unknown flag " + args[i] + "; expected --preset, --batch, --seq,"
            + " --steps, --rounds, --rank or --targets (bench/finetune.sh)");
      }
    }
    ModelConfig config = switch (preset) {
      case "small" -> ModelConfig.small();
      case "124m" -> new ModelConfig(50257, 1024, 768, 12, 12, 0);
      default -> throw new IllegalArgumentException("--preset must be small or 124m, but found " + preset);
    };
    int t = seq > 0 ? seq : config.contextLength();
    LoraConfig lora = new LoraConfig(rank, LoraConfig.DEFAULT_ALPHA, LoraConfig.parseTargets(targets));
    System.out.println("command: bench/finetune.sh " + String.join(" ", args));
    System.out.println("machine: " + LoadAverage.machine() + "; " + Nd4jRuntime.describe());
    System.out.println("load average before: " + LoadAverage.now());
    System.out.printf(Locale.ROOT, "model: %s %s, B %d, T %d; LoRA r %d alpha %.0f on %s%n", preset, config, batch, t,
        rank, lora.alpha(), lora.targetNames());

    if (steps == 0) {
      table(GptModel.layout(config).totalElements(), LoraModel.layout(config, lora).totalElements(), Double.NaN,
          Double.NaN, 0, 0);
      return;
    }
    SplitMix64 rng = new SplitMix64(7);
    int[] inputs = new int[batch * t];
    int[] tokens = new int[batch * t];
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = (int) (rng.nextDouble() * config.vocabSize());
      tokens[i] = (int) (rng.nextDouble() * config.vocabSize());
    }
    double[] full = new double[rounds];
    double[] adapted = new double[rounds];
    double[] fullCpu = new double[rounds];
    double[] adaptedCpu = new double[rounds];
    long fullParams;
    long loraParams;
    try (GptModel fullModel = GptModel.initialised(config, 1);
        LoraModel loraModel = new LoraModel(GptModel.initialised(config, 1), lora, 2);
        AdamW fullOpt = new AdamW(fullModel.layout());
        AdamW loraOpt = new AdamW(loraModel.layout())) {
      fullParams = fullModel.layout().totalElements();
      loraParams = loraModel.layout().totalElements();
      for (int r = 0; r < rounds; r++) {
        double[] f = msPerStep(fullModel, fullModel, fullOpt, inputs, tokens, batch, t, steps);
        double[] a = msPerStep(loraModel.base(), loraModel, loraOpt, inputs, tokens, batch, t, steps);
        full[r] = f[0];
        fullCpu[r] = f[1];
        adapted[r] = a[0];
        adaptedCpu[r] = a[1];
        System.out.printf(Locale.ROOT, "round %d: full %.0f ms/step (%.0f CPU ms), LoRA %.0f ms/step (%.0f CPU ms)%n",
            r + 1, f[0], f[1], a[0], a[1]);
      }
    }
    System.out.println("load average after: " + LoadAverage.now());
    table(fullParams, loraParams, median(full), median(adapted), rounds, steps);
    System.out.printf(Locale.ROOT, "| the JVM's CPU time per step, median (ms) | %.0f | %.0f | %.3f |%n",
        median(fullCpu), median(adaptedCpu), median(adaptedCpu) / median(fullCpu));
  }

  private static void table(long fullParams, long loraParams, double fullMs, double loraMs, int rounds, int steps) {
    System.out.println();
    System.out.println("| per rank and step | full fine-tuning | LoRA | LoRA / full |");
    System.out.println("|---|---:|---:|---:|");
    row("trainable parameters", fullParams, loraParams, "%,d");
    row("gradient bytes all-reduced (fp32)", 4 * fullParams, 4 * loraParams, "%,d");
    row("ring bytes sent per rank, N = 2 (2(N-1)/N x buffer)", 4 * fullParams, 4 * loraParams, "%,d");
    row("AdamW state bytes (m, v, update scratch)", 12 * fullParams, 12 * loraParams, "%,d");
    if (steps > 0) {
      System.out.printf(Locale.ROOT, "| step time, median of %d rounds of %d steps (ms) | %.0f | %.0f | %.3f |%n",
          rounds, steps, fullMs, loraMs, loraMs / fullMs);
    }
    System.out.printf(Locale.ROOT, "trainable parameters: %.1fx fewer with LoRA%n", fullParams / (double) loraParams);
  }

  private static void row(String what, long full, long lora, String format) {
    System.out.printf(Locale.ROOT, "| %s | " + format + " | " + format + " | %.5f |%n", what, full, lora,
        lora / (double) full);
  }

  /**
   * Two warm-up steps, then the mean wall and process CPU milliseconds of {@code steps} timed ones
   * (zeroGrad, forward, backward, AdamW). CPU time counts every thread of this JVM (BLAS and kernel
   * pools included), so it measures the work a step does even when other jobs share the cores.
   */
  private static double[] msPerStep(GptModel forward, TrainableModel trained, AdamW opt, int[] inputs, int[] targets,
      int batch, int t, int steps) {
    long start = 0;
    long startCpu = 0;
    for (int s = -2; s < steps; s++) {
      if (s == 0) {
        start = System.nanoTime();
        startCpu = CPU.getProcessCpuTime();
      }
      trained.zeroGrad();
      forward.forward(inputs, targets, batch, t);
      trained.backward(null);
      opt.step(trained.params().flat(), trained.grads().flat(), 1e-4);
    }
    double wallMs = (System.nanoTime() - start) / 1e6 / steps;
    return new double[] {wallMs, (CPU.getProcessCpuTime() - startCpu) / 1e6 / steps};
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
