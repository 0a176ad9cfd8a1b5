/*
 * QuantizeBench: a checkpoint in float32 against the same weights quantised to int8 - file bytes,
 * held-out loss and perplexity, and batch-1 generation tokens/s for float32, int8 by Vector API
 * dot products and int8 by per-tile dequantisation + sgemm - measured in one run, rounds
 * interleaved so that load on a shared machine hits every variant alike. It is a command, not a
 * test, and changes nothing on disk.
 */
package org.ringtrain.bench.quant;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.ringtrain.bench.train.LoadAverage;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.ops.gpt.FloatGptWeights;
import org.ringtrain.ops.gpt.Generator;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.GptWeights;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.gpt.Sampling;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.quant.Int8GptWeights;
import org.ringtrain.ops.quant.Int8Matmul;
import org.ringtrain.ops.quant.Int8ModelFile;

/** Entry point of bench/quantize.sh; {@code --help} lists the options. */
public final class QuantizeBench {

  private static final String USAGE = String.join("\n",
      "usage: bench/quantize.sh --checkpoint-dir DIR [--corpus FILE] [--tokens N] [--rounds R]",
      "                         [--eval-sequences S] [--embeddings]",
      "  --checkpoint-dir DIR  a training run's checkpoints (its newest valid one is measured)",
      "  --corpus FILE         text whose last 5% of sequences are the held-out set (default data/moby-dick.txt)",
      "  --tokens N            tokens generated per timed round at batch 1 (default 200)",
      "  --rounds R            timed rounds per variant, interleaved; the median is reported (default 5)",
      "  --eval-sequences S    held-out sequences scored, from the end of the corpus (default 32)",
      "  --embeddings          quantise wte and wpe too",
      "example: bench/quantize.sh --checkpoint-dir /work/teacher-small --tokens 256 --rounds 5");

  private QuantizeBench() {
  }

  /** Runs the benchmark; exit status 2 on bad arguments. */
  public static void main(String[] args) throws IOException {
    String dir = null;
    String corpus = "data/moby-dick.txt";
    int tokens = 200;
    int rounds = 5;
    int evalSequences = 32;
    boolean embeddings = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help")) {
        System.out.println(USAGE);
        return;
      }
      if (a.equals("--embeddings")) {
        embeddings = true;
        continue;
      }
      if (i + 1 >= args.length) {
        fail("option " + a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--checkpoint-dir" -> dir = v;
        case "--corpus" -> corpus = v;
        case "--tokens" -> tokens = positive(a, v);
        case "--rounds" -> rounds = positive(a, v);
        case "--eval-sequences" -> evalSequences = positive(a, v);
        default -> fail("unknown option " + a);
      }
    }
    if (dir == null) {
      fail("--checkpoint-dir is required");
    }
    TrainedGpt trained = TrainedGpt.load(dir, HadoopSettings.defaults());
    ModelConfig mc = trained.modelConfig();
    if (tokens >= mc.contextLength()) {
      fail("--tokens must be below the context length " + mc.contextLength() + ", but found " + tokens);
    }
    System.out.println("# bench/quantize.sh " + String.join(" ", args));
    System.out.println("# " + Instant.now() + ", " + LoadAverage.machine() + ", load " + LoadAverage.now());
    System.out.println("# checkpoint " + trained.checkpoint() + " (step " + trained.step() + "), " + mc);
    try (GptModel model = trained.newModel();
        Int8GptWeights int8 = Int8GptWeights.quantize(mc, model.params(), embeddings);
        Int8GptWeights tiled = int8.withPath(Int8Matmul.Path.TILED)) {
      long floatBytes = countBytes(out -> new SafetensorsWriter(model.layout()).write(model.params().flat(), Map.of(),
          out));
      long int8Bytes = countBytes(out -> Int8ModelFile.write(mc, model.params(), false, Map.of(), out));
      long int8EmbBytes = countBytes(out -> Int8ModelFile.write(mc, model.params(), true, Map.of(), out));
      System.out.printf("file bytes: float32 %d, int8 %d (%.3fx), int8 with embeddings %d (%.3fx)%n", floatBytes,
          int8Bytes, (double) int8Bytes / floatBytes, int8EmbBytes, (double) int8EmbBytes / floatBytes);

      int[][] heldOut = heldOut(trained, Paths.get(corpus), mc.contextLength(), evalSequences);
      FloatGptWeights floats = new FloatGptWeights(model);
      double floatLoss = heldOutLoss(floats, heldOut);
      double int8Loss = heldOutLoss(int8, heldOut);
      System.out.printf("held-out loss over %d sequences of %d tokens (last 5%% of %s, decoded the same way):%n",
          heldOut.length, mc.contextLength(), corpus);
      System.out.printf("  float32 loss %.4f perplexity %.3f%n  int8    loss %.4f perplexity %.3f (%+.2f%%)%n",
          floatLoss, Math.exp(floatLoss), int8Loss, Math.exp(int8Loss),
          100 * (Math.exp(int8Loss) / Math.exp(floatLoss) - 1));

      GptWeights[] variants = {floats, int8, tiled};
      String[] names = {"float32", "int8 vector", "int8 tiled"};
      double[][] rates = new double[variants.length][rounds];
      for (GptWeights w : variants) {
        tokensPerSecond(w, tokens); // warm-up: JIT and first-touch allocations
      }
      for (int r = 0; r < rounds; r++) {
        for (int v = 0; v < variants.length; v++) {
          rates[v][r] = tokensPerSecond(variants[v], tokens);
        }
      }
      double base = median(rates[0]);
      System.out.printf("batch-1 generation, %d tokens per round, median of %d interleaved rounds:%n", tokens, rounds);
      for (int v = 0; v < variants.length; v++) {
        System.out.printf("  %-12s %8.1f tokens/s  %.2fx float32   rounds %s%n", names[v], median(rates[v]),
            median(rates[v]) / base, Arrays.toString(Arrays.stream(rates[v]).map(x -> Math.round(x * 10) / 10.0)
                .toArray()));
      }
      System.out.println("# load at the end " + LoadAverage.now());
    }
  }

  private interface Writer {
    void write(OutputStream out) throws IOException;
  }

  private static long countBytes(Writer writer) throws IOException {
    long[] n = {0};
    writer.write(new OutputStream() {
      @Override
      public void write(int b) {
        n[0]++;
      }

      @Override
      public void write(byte[] b, int off, int len) {
        n[0] += len;
      }
    });
    return n[0];
  }

  /** The last {@code count} of the held-out 5% of non-overlapping {@code T + 1}-token sequences. */
  private static int[][] heldOut(TrainedGpt trained, java.nio.file.Path corpus, int t, int count) throws IOException {
    int[] tokens = trained.tokenizer().encode(Files.readAllBytes(corpus));
    int sequences = tokens.length / (t + 1);
    int held = Math.max(1, (int) Math.ceil(sequences * 0.05));
    int n = Math.min(count, held);
    List<int[]> out = new ArrayList<>();
    for (int s = sequences - n; s < sequences; s++) {
      out.add(Arrays.copyOfRange(tokens, s * (t + 1), (s + 1) * (t + 1)));
    }
    return out.toArray(new int[0][]);
  }

  private static double heldOutLoss(GptWeights weights, int[][] seqs) {
    int t = seqs[0].length - 1;
    double sum = 0;
    try (Generator g = new Generator(weights, seqs.length)) {
      int[] in = new int[seqs.length * t];
      int[] tg = new int[seqs.length * t];
      for (int i = 0; i < seqs.length; i++) {
        System.arraycopy(seqs[i], 0, in, i * t, t);
        System.arraycopy(seqs[i], 1, tg, i * t, t);
      }
      sum += g.lossSum(in, tg, t);
    }
    return sum / ((double) seqs.length * t);
  }

  private static double tokensPerSecond(GptWeights weights, int tokens) {
    try (Generator g = new Generator(weights, 1)) {
      long start = System.nanoTime();
      g.generate(new int[][] {{0}}, tokens, Sampling.greedy(), 1);
      return tokens / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static int positive(String option, String value) {
    try {
      int v = Integer.parseInt(value);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    fail(option + " must be a positive integer, but found '" + value + "'");
    return 0;
  }

  private static void fail(String message) {
    System.err.println("quantize.sh: " + message + "\n" + USAGE);
    System.exit(2);
  }
}
