/*
 * Sgd: stochastic gradient descent with momentum over the whole flat parameter buffer, with the
 * semantics of PyTorch's torch.optim.SGD (momentum buffer initialised to the first gradient,
 * dampening, Nesterov, L2 weight decay added to the gradient). It is not a per-tensor optimizer and
 * does not clip or schedule.
 */
package org.ringtrain.ops.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * SGD with momentum, as torch.optim.SGD computes it, on the whole flat buffer:
 * <pre>
 *   d = g + wd * p                      only for tensors with TensorSpec.decays() (2-D)
 *   b = d                               on the first step, else  b = momentum * b + (1 - dampening) * d
 *   d = nesterov ? d + momentum * b : b (when momentum != 0)
 *   p = p - lr * d
 * </pre>
 * Weight decay is coupled (L2, added to the gradient) as in PyTorch, but like {@link AdamW} it
 * skips biases and LayerNorm parameters, as a PyTorch user gets with nanoGPT's two parameter groups.
 *
 * <p>Memory: with momentum, one float32 buffer of the layout's size (the momentum buffer), plus
 * one scratch buffer when weight decay or Nesterov is on; allocated on the first step.
 */
public final class Sgd implements Optimizer {

  private final ParameterLayout layout;
  private final Config config;
  private final DecayRanges decay;
  private INDArray momentumBuffer; // flat, layout of params; null before the first step and when momentum == 0
  private INDArray scratch; // flat, layout of params: the decayed gradient, when decay or Nesterov needs one
  private long step;
  private boolean closed;

  /**
   * Hyper-parameters of SGD, validated when constructed.
   *
   * @param lr          base learning rate, default {@link #DEFAULT_LR}
   * @param momentum    momentum factor in [0, 1), default {@link #DEFAULT_MOMENTUM}
   * @param dampening   dampening of the gradient in the momentum buffer, in [0, 1], default 0
   * @param weightDecay L2 penalty added to the gradient of 2-D tensors, &gt;= 0, default 0
   * @param nesterov    Nesterov momentum; needs momentum &gt; 0 and dampening 0, default false
   */
  public record Config(double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {

    /** Default learning rate: 1e-3, PyTorch's. */
    public static final double DEFAULT_LR = 1e-3;
    /** Default momentum: 0.9 (PyTorch's default is 0, plain SGD). */
    public static final double DEFAULT_MOMENTUM = 0.9;

    /** Checks every field; messages name the field and the value found. */
    public Config {
      StepChecks.checkLearningRate(lr);
      if (!(momentum >= 0.0 && momentum < 1.0)) {
        throw new IllegalArgumentException("momentum must be in [0, 1), but found momentum=" + momentum);
      }
      if (!(dampening >= 0.0 && dampening <= 1.0)) {
        throw new IllegalArgumentException("dampening must be in [0, 1], but found dampening=" + dampening);
      }
      if (!(weightDecay >= 0.0) || Double.isInfinite(weightDecay)) {
        throw new IllegalArgumentException("weightDecay must be finite and >= 0, but found weightDecay=" + weightDecay
            + "; use 0 to disable it");
      }
      if (nesterov && (momentum == 0.0 || dampening != 0.0)) {
        throw new IllegalArgumentException("nesterov needs momentum > 0 and dampening = 0, but found momentum="
            + momentum + ", dampening=" + dampening + "; set nesterov=false or change them");
      }
    }

    /** Defaults: lr 1e-3, momentum 0.9, no dampening, no weight decay, no Nesterov. */
    public static Config defaults() {
      return new Config(DEFAULT_LR, DEFAULT_MOMENTUM, 0.0, 0.0, false);
    }
  }

  /** SGD with {@link Config#defaults()} for buffers of {@code layout}. */
  public Sgd(ParameterLayout layout) {
    this(layout, Config.defaults());
  }

  /** SGD with {@code config} for buffers of {@code layout}; allocates nothing until the first step. */
  public Sgd(ParameterLayout layout, Config config) {
    if (layout == null || config == null) {
      throw new IllegalArgumentException("layout and config must not be null, but found layout=" + layout
          + ", config=" + config + "; pass GptModel.layout(modelConfig) and Sgd.Config.defaults()");
    }
    this.layout = layout;
    this.config = config;
    this.decay = DecayRanges.of(layout);
  }

  /** Rebuilds an optimizer from saved state; {@code momentumBuffer} (may be null) is adopted. */
  static Sgd restore(ParameterLayout layout, Config config, long step, INDArray momentumBuffer) {
    Sgd opt = new Sgd(layout, config);
    opt.step = step;
    opt.momentumBuffer = momentumBuffer;
    return opt;
  }

  @Override
  public void step(INDArray params, INDArray grads, double lr) {
    StepChecks.check("Sgd", closed, layout, params, grads, lr);
    double momentum = config.momentum();
    INDArray d = grads;
    if (config.weightDecay() != 0.0) {
      d = scratch().assign(grads);
      decay.addScaled(d, params, config.weightDecay());
    }
    if (momentum != 0.0) {
      if (momentumBuffer == null) {
        momentumBuffer = Nd4j.createUninitialized(DataType.FLOAT, layout.totalElements()).assign(d);
      } else {
        momentumBuffer.muli(momentum);
        FlatOps.axpy(1.0 - config.dampening(), d, momentumBuffer);
      }
      if (config.nesterov()) {
        if (d == grads) {
          d = scratch().assign(grads);
        }
        FlatOps.axpy(momentum, momentumBuffer, d);
      } else {
        d = momentumBuffer;
      }
    }
    FlatOps.axpy(-lr, d, params);
    step++;
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

  /** The momentum buffer, or null before the first step and whenever momentum is 0. */
  INDArray momentumBuffer() {
    return momentumBuffer;
  }

  @Override
  public void close() {
    closed = true;
    StepChecks.release(momentumBuffer);
    StepChecks.release(scratch);
    momentumBuffer = null;
    scratch = null;
  }

  @Override
  public String toString() {
    return "Sgd[" + config + ", step=" + step + "]";
  }

  private INDArray scratch() {
    if (scratch == null) {
      scratch = Nd4j.createUninitialized(DataType.FLOAT, layout.totalElements());
    }
    return scratch;
  }
}
