/*
 * ProfileEntries: the rows that LayerProfile times, i.e. every layer kind of one GPT training
 * step as a call on arrays of the model's own shapes (one block's activations and weights, the
 * embeddings, the head, the flat buffers of AdamW), with each row's FLOPs and bytes and, for the
 * layers that have a fused kernel, their ND4J composition as the side-by-side baseline. It owns
 * those arrays and frees them on close; it times nothing.
 */
package org.ringtrain.bench.model;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.bench.model.LayerProfile.Entry;
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

/** The profile's rows for one (config, batch), forward rows first, then backward and AdamW. */
final class ProfileEntries implements AutoCloseable {

  private static final double F = 4.0; // bytes per float32

  private final List<INDArray> owned = new ArrayList<>();
  private AdamW adam;

  /** Empty; {@link #of} allocates. */
  ProfileEntries() {
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

  /** Allocates the arrays of {@code config} at this batch, runs one forward, and returns the rows. */
  List<Entry> of(ModelConfig config, int batch) {
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
    addLinear(fwd, linearBwd, "Linear attn proj", layers, n, c, c,
        () -> Linear.forward(proj, atty, projW, projB), () -> Linear.forwardNd4j(proj, atty, projW, projB),
        () -> Linear.backward(datty, dprojW, dprojB, dres, atty, projW, ones));
    fwd.add(new Entry("Residual", "fwd", 2 * layers, nc, F * 3 * nc, () -> Residual.forward(res2, x, proj)));
    addLinear(fwd, linearBwd, "Linear fc", layers, n, c, 4 * c, () -> Linear.forward(fch, ln, fcW, fcB),
        () -> Linear.forwardNd4j(fch, ln, fcW, fcB),
        () -> Linear.backward(dln, dfcW, dfcB, dfch, ln, fcW, ones));
    fwd.add(new Entry("GELU", "fwd", layers, 4 * nc * 10, F * 3 * 4 * nc, () -> Gelu.forward(fchGelu, fchSig, fch),
        () -> Gelu.forwardNd4j(fchGelu, fchSig, fch)));
    addLinear(fwd, linearBwd, "Linear fc proj", layers, n, 4 * c, c,
        () -> Linear.forward(proj, fchGelu, fcProjW, fcProjB),
        () -> Linear.forwardNd4j(proj, fchGelu, fcProjW, fcProjB),
        () -> Linear.backward(dfchGelu, dfcProjW, dfcProjB, dres, fchGelu, fcProjW, ones));
    fwd.add(new Entry("LM head", "fwd", 1, 2 * nc * v, F * (nc + (double) v * c + (double) n * v),
        () -> TiedLmHead.forward(logits, ln, wte)));
    fwd.add(new Entry("Cross-entropy", "fwd", 1, 4.0 * n * v, F * 2.0 * n * v,
        () -> SoftmaxCrossEntropy.forward(lmProbs, logits, targets, -1),
        () -> SoftmaxCrossEntropy.forwardNd4j(lmProbs, logits, targets, -1)));
    List<Entry> bwd = new ArrayList<>();
    bwd.add(new Entry("Cross-entropy", "bwd", 1, 2.0 * n * v, F * 2.0 * n * v,
        () -> SoftmaxCrossEntropy.backward(dlogits, lmProbs, targets, -1, 1.0),
        () -> SoftmaxCrossEntropy.backwardNd4j(dlogits, lmProbs, targets, -1, 1.0)));
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

  @Override
  public void close() {
    for (INDArray a : owned) {
      a.close();
    }
    if (adam != null) {
      adam.close();
    }
  }
}
