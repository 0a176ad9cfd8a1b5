/*
 * AdamW: Adam with decoupled weight decay over the whole flat parameter buffer, with PyTorch's
 * torch.optim.AdamW semantics (bias correction, eps outside the square root, decay before the
 * moment update), optionally on owned ranges only with compact state (ZeRO stage 1 sharding). It
 * is not a per-tensor optimizer and has no parameter groups beyond "2-D tensors decay, others do
 * not"; it does not clip or schedule (see GradientClipping, LearningRateSchedule) and does not
 * communicate (the driver reduce-scatters gradients and all-gathers parameters around it).
 *
 * Why over 300 lines: the sharded view's three conversions (shard, copyStateTo, unshardedWith) sit
 * beside the state they convert, so that one class owns m and v.
 */
package org.ringtrain.ops.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.kernels.AdamWKernel;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * AdamW (Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization", arXiv:1711.05101) on
 * the entire flat buffer with ND4J vector ops. For step t = 1, 2, ... and every element:
 * <pre>
 *   p = p * (1 - lr * wd)              only for tensors with TensorSpec.decays() (2-D)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * With the fused kernels (the default, see {@link Fused}) decay, both moments and the update are
 * one pass of {@link AdamWKernel} over params, grads, m and v, in IEEE-exact float operations
 * only, so every machine computes the same bits. Without them the moments and the update
 * direction come from one pass of ND4J's fused {@code adam_updater} op, then one axpy applies the
 * learning rate, and decay is one scal per range of 2-D tensors. Results equal torch's up to
 * float rounding (torch computes m with {@code lerp_}).
 *
 * <p>Sharded ({@link #AdamW(ParameterLayout, Config, OwnedRanges)}): only the elements of the
 * {@link OwnedRanges} are updated, and m and v hold only those elements, back to back. The
 * arithmetic per element is the same pass, with weight decay following the tensor boundaries
 * inside each range, so an owned element ends bitwise equal to what the unsharded AdamW computes
 * for it. The unsharded optimizer is the special case of one range covering the buffer.
 *
 * <p>Memory: two float32 buffers of the owned elements (m and v; the layout's size unless
 * sharded), 8 bytes per owned parameter, allocated on the first step; the ND4J path adds a
 * scratch buffer (4 more bytes per owned parameter).
 */
public final class AdamW implements Optimizer {

  private final ParameterLayout layout;
  private final Config config;
  private final DecayRanges decay;
  private final OwnedRanges owned;
  private INDArray m; // [owned elements], first moment: owned range i at owned.stateOffset(i)
  private INDArray v; // [owned elements], second moment, as m
  private INDArray scratch; // [owned elements], the update direction (ND4J path only)
  private long step;
  private boolean closed;

  /**
   * Hyper-parameters of AdamW, validated when constructed.
   *
   * @param lr          base learning rate, default {@link #DEFAULT_LR}
   * @param beta1       decay of the first moment, in [0, 1), default {@link #DEFAULT_BETA1}
   * @param beta2       decay of the second moment, in [0, 1), default {@link #DEFAULT_BETA2}
   * @param eps         added to the denominator, &gt; 0, default {@link #DEFAULT_EPS}
   * @param weightDecay decoupled weight decay of 2-D tensors, &gt;= 0, default {@link #DEFAULT_WEIGHT_DECAY}
   */
  public record Config(double lr, double beta1, double beta2, double eps, double weightDecay) {

    /** Default learning rate: 3e-4. */
    public static final double DEFAULT_LR = 3e-4;
    /** Default beta1: 0.9. */
    public static final double DEFAULT_BETA1 = 0.9;
    /** Default beta2: 0.95, nanoGPT's choice for GPT-2 (PyTorch's own default is 0.999). */
    public static final double DEFAULT_BETA2 = 0.95;
    /** Default eps: 1e-8. */
    public static final double DEFAULT_EPS = 1e-8;
    /** Default weight decay: 0.1, applied to 2-D tensors only. */
    public static final double DEFAULT_WEIGHT_DECAY = 0.1;

    /** Checks every field; messages name the field and the value found. */
    public Config {
      StepChecks.checkLearningRate(lr);
      requireBeta("beta1", beta1);
      requireBeta("beta2", beta2);
      if (!(eps > 0.0) || Double.isInfinite(eps)) {
        throw new IllegalArgumentException("eps must be finite and > 0, but found eps=" + eps + "; the default is "
            + DEFAULT_EPS);
      }
      if (!(weightDecay >= 0.0) || Double.isInfinite(weightDecay)) {
        throw new IllegalArgumentException("weightDecay must be finite and >= 0, but found weightDecay=" + weightDecay
            + "; use 0 to disable it");
      }
    }

    /** All defaults: lr 3e-4, betas 0.9/0.95, eps 1e-8, weight decay 0.1. */
    public static Config defaults() {
      return new Config(DEFAULT_LR, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_WEIGHT_DECAY);
    }

    /** This config with another base learning rate. */
    public Config withLr(double newLr) {
      return new Config(newLr, beta1, beta2, eps, weightDecay);
    }

    /** This config with another weight decay. */
    public Config withWeightDecay(double newWeightDecay) {
      return new Config(lr, beta1, beta2, eps, newWeightDecay);
    }

    private static void requireBeta(String name, double beta) {
      // The fused op computes in float: a beta that rounds to 1.0f would divide by zero.
      if (!(beta >= 0.0 && (float) beta < 1.0f)) {
        throw new IllegalArgumentException(name + " must be in [0, 1) and round to a float below 1, but found "
            + name + "=" + beta);
      }
    }
  }

  /** AdamW with {@link Config#defaults()} for buffers of {@code layout}. */
  public AdamW(ParameterLayout layout) {
    this(layout, Config.defaults());
  }

  /** AdamW with {@code config} for buffers of {@code layout}; allocates nothing until the first step. */
  public AdamW(ParameterLayout layout, Config config) {
    this(layout, config, layout == null ? null : OwnedRanges.all(layout));
  }

  /**
   * Sharded AdamW: each {@link #step} updates only the elements of {@code owned} (the rest of
   * params is left as it is), with m and v of {@code owned.elements()} floats. Allocates nothing
   * until the first step.
   */
  public AdamW(ParameterLayout layout, Config config, OwnedRanges owned) {
    if (layout == null || config == null || owned == null) {
      throw new IllegalArgumentException("layout, config and owned ranges must not be null, but found layout="
          + layout + ", config=" + config + ", owned=" + owned
          + "; pass GptModel.layout(modelConfig), AdamW.Config.defaults() and OwnedRanges.all(layout)");
    }
    this.layout = layout;
    this.config = config;
    this.decay = DecayRanges.of(layout);
    this.owned = owned;
  }

  /**
   * Rebuilds an unsharded optimizer from saved state, e.g. whole-buffer m and v assembled from a
   * sharded checkpoint's slices; {@code m} and {@code v} (layout-sized, or both null before the
   * first step) are adopted, not copied.
   */
  public static AdamW restore(ParameterLayout layout, Config config, long step, INDArray m, INDArray v) {
    return restore(layout, config, OwnedRanges.all(layout), step, m, v);
  }

  /**
   * Rebuilds a sharded optimizer over {@code owned} from saved state, e.g. the owned parts of a
   * sharded checkpoint's slices; {@code m} and {@code v} ({@code owned.elements()} floats each, each
   * range at {@link OwnedRanges#stateOffset}, or both null before the first step) are adopted.
   */
  public static AdamW restore(ParameterLayout layout, Config config, OwnedRanges owned, long step, INDArray m,
      INDArray v) {
    AdamW opt = new AdamW(layout, config, owned);
    opt.step = step;
    opt.m = m;
    opt.v = v;
    return opt;
  }

  @Override
  public void step(INDArray params, INDArray grads, double lr) {
    StepChecks.check("AdamW", closed, layout, params, grads, lr);
    allocateState();
    step++;
    double beta1 = config.beta1();
    double beta2 = config.beta2();
    if (owned.elements() == 0) {
      return; // a rank that owns nothing only counts the step
    }
    double bc1 = 1.0 - Math.pow(beta1, step);
    double bc2 = 1.0 - Math.pow(beta2, step);
    // Bias corrections from Kingma & Ba (arXiv:1412.6980, Algorithm 1), in torch's form:
    // p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps).
    AdamWKernel.Scalars scalars = new AdamWKernel.Scalars((float) beta1, (float) beta2,
        (float) (1.0 - lr * config.weightDecay()), (float) (lr / bc1), (float) (1.0 / Math.sqrt(bc2)),
        (float) config.eps());
    boolean fused = Fused.accepts(params, grads, m, v);
    for (int i = 0; i < owned.count(); i++) {
      long from = owned.start(i);
      long to = owned.end(i);
      long at = owned.stateOffset(i);
      long len = to - from;
      INDArray p = slice(params, from, to);
      INDArray g = slice(grads, from, to);
      INDArray mi = slice(m, at, at + len);
      INDArray vi = slice(v, at, at + len);
      if (fused) {
        DecayRanges d = owned.decay(i);
        AdamWKernel.step(p, g, mi, vi, d.starts(), d.ends(), scalars);
      } else {
        stepNd4j(p, g, mi, vi, owned.decay(i), at, lr, bc2);
      }
    }
  }

  /**
   * The ND4J path on one owned range (views of params, grads, m and v): decay, then one fused
   * native pass for the moments and the direction, then one axpy.
   */
  private void stepNd4j(INDArray p, INDArray g, INDArray mi, INDArray vi, DecayRanges d, long at, double lr,
      double bc2) {
    if (scratch == null) {
      scratch = Nd4j.createUninitialized(DataType.FLOAT, owned.elements());
    }
    INDArray direction = slice(scratch, at, at + p.length());
    // Decoupled decay first, as torch.optim.AdamW does; biases and LayerNorm are left alone.
    d.scale(p, 1.0 - lr * config.weightDecay());
    // One fused native pass over the range updates m and v in place and writes
    //   direction = m * sqrt(1 - beta2^t) / (1 - beta1^t) / (sqrt(v) + epsHat),
    // with bias corrections from Kingma & Ba (arXiv:1412.6980, Algorithm 1). Passing
    // epsHat = eps * sqrt(1 - beta2^t) turns that into torch's (m / bc1) / (sqrt(v) / sqrt(bc2) + eps).
    // The op gets lr = 1 and the learning rate is applied below, because the op replaces a zero
    // step size by eps, which would move parameters at lr = 0.
    Nd4j.getExecutioner().exec(new AdamUpdater(g, vi, mi, direction, vi, mi, 1.0, config.beta1(), config.beta2(),
        config.eps() * Math.sqrt(bc2), iterationIndex()));
    FlatOps.axpy(-lr, direction, p);
  }

  /** Elements [from, to) of a flat buffer; the buffer itself when that is all of it. */
  private static INDArray slice(INDArray flat, long from, long to) {
    return from == 0 && to == flat.length() ? flat : flat.get(NDArrayIndex.interval(from, to));
  }

  @Override
  public double baseLearningRate() {
    return config.lr();
  }

  @Override
  public long stepCount() {
    return step;
  }

  @Override
  public ParameterLayout layout() {
    return layout;
  }

  /** The hyper-parameters. */
  public Config config() {
    return config;
  }

  /** The ranges this optimizer updates: {@link OwnedRanges#all} unless sharded. */
  public OwnedRanges owned() {
    return owned;
  }

  /**
   * A sharded AdamW over {@code ranges} with this unsharded optimizer's config, step count and the
   * ranges' elements of its m and v (copied), e.g. to resume a sharded run from a full checkpoint.
   *
   * @throws IllegalStateException when this optimizer is itself sharded
   */
  public AdamW shard(OwnedRanges ranges) {
    requireUnsharded("shard");
    AdamW s = new AdamW(layout, config, ranges);
    s.step = step;
    if (m != null && ranges.elements() > 0) {
      s.allocateState();
      for (int i = 0; i < ranges.count(); i++) {
        long at = ranges.stateOffset(i);
        long len = ranges.end(i) - ranges.start(i);
        slice(s.m, at, at + len).assign(slice(m, ranges.start(i), ranges.end(i)));
        slice(s.v, at, at + len).assign(slice(v, ranges.start(i), ranges.end(i)));
      }
    }
    return s;
  }

  /**
   * Copies the owned elements of m and v to their flat positions in {@code fullM} and {@code fullV}
   * (buffers of the layout's size); other elements are left as they are. Nothing before the first
   * step, when m and v are zero.
   */
  public void copyStateTo(INDArray fullM, INDArray fullV) {
    if (m == null) {
      return;
    }
    for (int i = 0; i < owned.count(); i++) {
      long at = owned.stateOffset(i);
      long len = owned.end(i) - owned.start(i);
      slice(fullM, owned.start(i), owned.end(i)).assign(slice(m, at, at + len));
      slice(fullV, owned.start(i), owned.end(i)).assign(slice(v, at, at + len));
    }
  }

  /**
   * An unsharded AdamW with this optimizer's config and step count that adopts {@code fullM} and
   * {@code fullV} (layout-sized, e.g. every rank's {@link #copyStateTo} gathered), for writing the
   * whole state.
   */
  public AdamW unshardedWith(INDArray fullM, INDArray fullV) {
    return restore(layout, config, step, fullM, fullV);
  }

  /**
   * The state of the owned elements, {m, v}, each range at {@link OwnedRanges#stateOffset}; null
   * before the first step or when nothing is owned. The arrays themselves, for writing a
   * checkpoint slice: do not modify them.
   */
  public INDArray[] ownedMoments() {
    return m == null ? null : new INDArray[] {m, v};
  }

  private void requireUnsharded(String what) {
    if (!owned.coversAll(layout)) {
      throw new IllegalStateException(what + " needs an unsharded AdamW, but this one owns " + owned.elements()
          + " of " + layout.totalElements() + " elements; gather its state first (copyStateTo, unshardedWith)");
    }
  }

  /** The first moment buffer, or null before the first step. */
  INDArray firstMoment() {
    return m;
  }

  /** The second moment buffer, or null before the first step. */
  INDArray secondMoment() {
    return v;
  }

  @Override
  public void close() {
    closed = true;
    StepChecks.release(m);
    StepChecks.release(v);
    StepChecks.release(scratch);
    m = null;
    v = null;
    scratch = null;
  }

  @Override
  public String toString() {
    return "AdamW[" + config + ", step=" + step + ", owning " + owned.elements() + ", decaying " + decay.elements() + " of "
        + layout.totalElements() + " elements in " + decay.count() + " ranges]";
  }

  /** The op's 0-based iteration, from which it computes beta^(iteration + 1). */
  private int iterationIndex() {
    if (step > Integer.MAX_VALUE) {
      throw new IllegalStateException("AdamW step count " + step + " exceeds " + Integer.MAX_VALUE
          + ", the largest iteration ND4J's adam_updater accepts");
    }
    return (int) (step - 1);
  }

  private void allocateState() {
    long n = owned.elements();
    if (m == null && n > 0) {
      m = Nd4j.zeros(DataType.FLOAT, n);
      v = Nd4j.zeros(DataType.FLOAT, n);
    }
  }
}
