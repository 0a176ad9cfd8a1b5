/*
 * LayerProfile: the per-layer breakdown of one GPT training step (bench/model.sh --profile). It
 * calls the layer functions of org.ringtrain.ops.layers directly, one layer kind at a time, on
 * arrays of the model's own shapes, and prints each kind's time per step next to its FLOPs, its
 * bytes and the time those would take at the machine's sgemm and memcpy rates. It is not a timer
 * inside the model: GptModel and TransformerBlock carry no timing code, so training pays nothing
 * for this profile.
 *
 * Why over 300 lines: one table of every layer kind, forward and backward, each with its
 * arrays, FLOPs and bytes; a benchmark command, not product code.
 */
package org.ringtrain.bench.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.layers.Attention;
import org.ringtrain.ops.layers.Encoder;
import org.ringtrain.ops.layers.Gelu;
import org.ringtrain.ops.layers.LayerNorm;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.Residual;
import org.ringtrain.ops.layers.SoftmaxCrossEntropy;
import org.ringtrain.ops.layers.TiedLmHead;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.optim.AdamW;

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

  private static final double F = 4.0; // bytes per float32
  /** Untimed calls before the timed ones: enough for the JIT to compile the fused kernels' loops. */
  private static final int WARMUP = 5;

  private final List<INDArray> owned = new ArrayList<>();
  private AdamW adam;

  private LayerProfile() {
  }

  /** Times every layer of one step of {@code config} at this batch; see the class comment. */
  static List<Timed> run(ModelConfig config, int batch, int reps) {
    LayerProfile p = new LayerProfile();
    try {
      List<Entry> entries = p.entries(config, batch);
      List<Timed> timed = new ArrayList<>();
      for (Entry e : entries) {
        double[] ms = medianMs(e.op(), e.baseline(), reps);
        timed.add(new Timed(e, ms[0], ms[1]));
      }
      return timed;
    } finally {
      for (INDArray a : p.owned) {
        a.close();
      }
      if (p.adam != null) {
        p.adam.close();
      }
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

  private INDArray take(long... shape) {
    INDArray a = Nd4j.create(DataType.FLOAT, shape);
    owned.add(a);
    return a;
  }

  private INDArray randn(double scale, long... shape) {
    INDArray a = take(shape);
    a.assign(Nd4j.randn(DataType.FLOAT, shape).muli(scale));
    return a;
  }

  private List<Entry> entries(ModelConfig config, int batch) {
    Nd4j.getRandom().setSeed(42);
    int t = config.contextLength();
    int c = config.dModel();
    int nh = config.heads();
    int layers = config.layers();
    int v = config.vocabSize();
    long n = (long) batch * t;
    long hs = c / nh;
    double nc = n * c;
    double att = (double) batch * nh * t * t;

    // The arrays of one block plus the embeddings and head, with the model's shapes.
    INDArray x = randn(1.0, n, c);
    INDArray lnW = randn(0.02, c).addi(1.0);
    INDArray lnB = randn(0.02, c);
    INDArray ln = take(n, c);
    INDArray mean = take(n);
    INDArray rstd = take(n);
    INDArray qkvW = randn(0.02, c, 3 * c);
    INDArray qkvB = randn(0.02, 3 * c);
    INDArray qkv = take(n, 3 * c);
    INDArray qkvh = take(3, batch, nh, t, hs);
    INDArray probs = take(batch, nh, t, t);
    INDArray yh = take(batch, nh, t, hs);
    INDArray atty = take(n, c);
    INDArray mask = Attention.causalMask(DataType.FLOAT, t);
    owned.add(mask);
    INDArray projW = randn(0.02, c, c);
    INDArray projB = randn(0.02, c);
    INDArray proj = take(n, c);
    INDArray res2 = take(n, c);
    INDArray fcW = randn(0.02, c, 4 * c);
    INDArray fcB = randn(0.02, 4 * c);
    INDArray fch = take(n, 4 * c);
    INDArray fchSig = take(n, 4 * c);
    INDArray fchGelu = take(n, 4 * c);
    INDArray fcProjW = randn(0.02, 4 * c, c);
    INDArray fcProjB = randn(0.02, c);
    INDArray ones = take(1, n).assign(1.0);
    INDArray dres = randn(1e-3, n, c);
    INDArray dln = randn(1e-3, n, c);
    INDArray dlnW = take(c);
    INDArray dlnB = take(c);
    INDArray dqkvW = take(c, 3 * c);
    INDArray dqkvB = take(3 * c);
    INDArray dqkv = take(n, 3 * c);
    INDArray datty = take(n, c);
    INDArray dyh = take(batch, nh, t, hs);
    INDArray datt = take(batch, nh, t, t);
    INDArray attTmp = take(batch, nh, t, t);
    INDArray rowSum = take(batch, nh, t);
    INDArray dqkvh = take(3, batch, nh, t, hs);
    INDArray dprojW = take(c, c);
    INDArray dprojB = take(c);
    INDArray dfcW = take(c, 4 * c);
    INDArray dfcB = take(4 * c);
    INDArray dfch = take(n, 4 * c);
    INDArray dfchGelu = randn(1e-3, n, 4 * c);
    INDArray dfcProjW = take(4 * c, c);
    INDArray dfcProjB = take(c);
    INDArray xhat = take(n, c);
    INDArray lnTmp = take(n, c);
    INDArray rowTmp = take(n);
    INDArray wte = randn(0.02, v, c);
    INDArray wpe = randn(0.02, t, c);
    INDArray dwte = take(v, c);
    INDArray dwpe = take(t, c);
    INDArray logits = take(n, v);
    INDArray lmProbs = take(n, v);
    INDArray dlogits = take(n, v);
    INDArray tokens = Nd4j.create(DataType.INT32, n);
    owned.add(tokens);
    int[] ids = new int[(int) n];
    int[] targets = new int[(int) n];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (i * 31 + 7) % v;
      targets[i] = (i * 17 + 3) % v;
    }
    tokens.data().setData(ids);
    // Forward once so that every backward reads real forward state.
    Encoder.forward(x, tokens, wte, wpe, batch, t, 0);
    LayerNorm.forward(ln, mean, rstd, x, lnW, lnB);
    Linear.forward(qkv, ln, qkvW, qkvB);
    Attention.forward(atty, qkvh, probs, yh, qkv, mask, batch, t, nh);
    Linear.forward(fch, ln, fcW, fcB);
    Gelu.forward(fchGelu, fchSig, fch);
    TiedLmHead.forward(logits, ln, wte);
    SoftmaxCrossEntropy.forward(lmProbs, logits, targets, -1);

    INDArray params = randn(0.02, GptModel.layout(config).totalElements());
    INDArray grads = randn(1e-3, params.length());
    adam = new AdamW(GptModel.layout(config));
    long p = params.length();

    int l2 = 2 * layers + 1;
    List<Entry> fwd = new ArrayList<>();
    List<Entry> linearBwd = new ArrayList<>();
    fwd.add(new Entry("zero grads", "fwd", 1, 0, F * p, () -> grads.assign(0)));
    fwd.add(new Entry("Encoder", "fwd", 1, nc, F * (3 * nc), () -> Encoder.forward(x, tokens, wte, wpe, batch, t, 0)));
    fwd.add(new Entry("LayerNorm", "fwd", l2, 8 * nc, F * (2 * nc + 2 * n),
        () -> LayerNorm.forward(ln, mean, rstd, x, lnW, lnB),
        () -> LayerNorm.forwardNd4j(ln, mean, rstd, x, lnW, lnB)));
    addLinear(fwd, linearBwd, "Linear qkv", layers, n, c, 3 * c, () -> Linear.forward(qkv, ln, qkvW, qkvB),
        () -> Linear.forwardNd4j(qkv, ln, qkvW, qkvB),
        () -> Linear.backward(dln, dqkvW, dqkvB, dqkv, ln, qkvW, ones));
    fwd.add(new Entry("Attention", "fwd", layers, 4 * att * hs + 5 * att, F * (3 * nc + att + nc),
        () -> Attention.forward(atty, qkvh, probs, yh, qkv, mask, batch, t, nh),
        () -> Attention.forwardNd4j(atty, qkvh, probs, yh, qkv, mask, batch, t, nh)));
    addLinear(fwd, linearBwd, "Linear attn proj", layers, n, c, c, () -> Linear.forward(proj, atty, projW, projB),
        () -> Linear.forwardNd4j(proj, atty, projW, projB),
        () -> Linear.backward(datty, dprojW, dprojB, dres, atty, projW, ones));
    fwd.add(new Entry("Residual", "fwd", 2 * layers, nc, F * 3 * nc, () -> Residual.forward(res2, x, proj)));
    addLinear(fwd, linearBwd, "Linear fc", layers, n, c, 4 * c, () -> Linear.forward(fch, ln, fcW, fcB),
        () -> Linear.forwardNd4j(fch, ln, fcW, fcB),
        () -> Linear.backward(dln, dfcW, dfcB, dfch, ln, fcW, ones));
    fwd.add(new Entry("GELU", "fwd", layers, 4 * nc * 10, F * 3 * 4 * nc, () -> Gelu.forward(fchGelu, fchSig, fch),
        () -> Gelu.forwardNd4j(fchGelu, fchSig, fch)));
    addLinear(fwd, linearBwd, "Linear fc proj", layers, n, 4 * c, c,
        () -> Linear.forward(proj, fchGelu, fcProjW, fcProjB), () -> Linear.forwardNd4j(proj, fchGelu, fcProjW, fcProjB),
        () -> Linear.backward(dfchGelu, dfcProjW, dfcProjB, dres, fchGelu, fcProjW, ones));
    fwd.add(new Entry("LM head", "fwd", 1, 2 * nc * v, F * (nc + (double) v * c + (double) n * v),
        () -> TiedLmHead.forward(logits, ln, wte)));
    fwd.add(new Entry("Cross-entropy", "fwd", 1, 4.0 * n * v, F * 2.0 * n * v,
        () -> SoftmaxCrossEntropy.forward(lmProbs, logits, targets, -1),
        () -> SoftmaxCrossEntropy.forwardNd4j(lmProbs, logits, targets, -1)));
    List<Entry> bwd = new ArrayList<>();
    bwd.add(new Entry("Cross-entropy", "bwd", 1, 2.0 * n * v, F * 2.0 * n * v,
        () -> SoftmaxCrossEntropy.backward(dlogits, lmProbs, targets, -1, 1.0)));
    bwd.add(new Entry("LM head", "bwd", 1, 4 * nc * v, F * (2 * nc + 3.0 * v * c + (double) n * v),
        () -> TiedLmHead.backward(dln, dwte, dlogits, ln, wte)));
    bwd.addAll(linearBwd);
    // GELU's backward includes the block's recomputation of the GELU output from fch and fchSig.
    bwd.add(new Entry("GELU", "bwd", layers, 4 * nc * 11, F * (3 + 4) * 4 * nc, () -> {
      fch.mul(fchSig, fchGelu);
      Gelu.backward(dfch, dfchGelu, fch, fchSig, fchGelu);
    }, () -> {
      fch.mul(fchSig, fchGelu);
      Gelu.backwardNd4j(dfch, dfchGelu, fch, fchSig, fchGelu);
    }));
    bwd.add(new Entry("LayerNorm", "bwd", l2, 14 * nc, F * (4 * nc + 2 * n),
        () -> LayerNorm.backward(dres, dlnW, dlnB, dln, x, lnW, mean, rstd, xhat, lnTmp, rowTmp, ones),
        () -> LayerNorm.backwardNd4j(dres, dlnW, dlnB, dln, x, lnW, mean, rstd, xhat, lnTmp, rowTmp, ones)));
    bwd.add(new Entry("Attention", "bwd", layers, 8 * att * hs + 4 * att, F * (nc + 3 * nc + att + 3 * nc),
        () -> Attention.backward(dqkv, datty, qkvh, probs, dyh, datt, attTmp, rowSum, dqkvh, batch, t, nh),
        () -> Attention.backwardNd4j(dqkv, datty, qkvh, probs, dyh, datt, attTmp, rowSum, dqkvh, batch, t, nh)));
    bwd.add(new Entry("Encoder", "bwd", 1, 2 * nc, F * 4 * nc,
        () -> Encoder.backward(dwte, dwpe, dres, tokens, ones, batch, t)));
    INDArray m = take(p);
    INDArray v2 = take(p);
    INDArray direction = take(p);
    ParameterLayout layout = GptModel.layout(config);
    bwd.add(new Entry("AdamW", "step", 1, 12.0 * p, F * 7.0 * p, () -> adam.step(params, grads, 3e-4),
        () -> nd4jAdamW(layout, params, grads, m, v2, direction, 3e-4)));
    fwd.addAll(bwd);
    return fwd;
  }

  /**
   * AdamW's step as ND4J ops, as AdamW ran it before its fused kernel (and still does without the
   * Vector API): decay by BLAS scal per 2-D tensor, ND4J's adam_updater op, then an axpy. Step 1's
   * bias corrections every call, which costs the same as any other step.
   */
  private static void nd4jAdamW(ParameterLayout layout, INDArray params, INDArray grads, INDArray m, INDArray v,
      INDArray direction, double lr) {
    for (ParameterLayout.TensorSpec t : layout.tensors()) {
      if (t.decays()) {
        Nd4j.getBlasWrapper().level1().scal(t.length(), 1.0 - lr * 0.1,
            params.get(NDArrayIndex.interval(t.offset(), t.offset() + t.length())));
      }
    }
    Nd4j.getExecutioner().exec(new AdamUpdater(grads, v, m, direction, v, m, 1.0, 0.9, 0.95,
        1e-8 * Math.sqrt(1.0 - 0.95), 0));
    Nd4j.getExecutioner().exec(new Axpy(direction, params, params, -lr));
  }

  /** A Linear layer's two rows; backward rows are kept in the reverse order of the forward rows. */
  private static void addLinear(List<Entry> fwd, List<Entry> bwd, String name, int calls, long n, long in, long out,
      Runnable forward, Runnable forwardNd4j, Runnable backward) {
    double mm = 2.0 * n * in * out;
    fwd.add(new Entry(name, "fwd", calls, mm + n * out, F * ((double) n * in + (double) in * out + 2.0 * n * out),
        forward, forwardNd4j));
    bwd.add(0, new Entry(name, "bwd", calls, 2 * mm + n * out, F * (2.0 * n * out + 2.0 * n * in + 3.0 * in * out),
        backward));
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
