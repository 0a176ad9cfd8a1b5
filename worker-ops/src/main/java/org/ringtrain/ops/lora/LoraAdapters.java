/*
 * LoraAdapters: the low-rank adapters of every block of one GPT, as one flat parameter buffer of
 * their own (so the optimizer, the ring and checkpoints see only them) and as the BlockAdapters the
 * frozen blocks call beside their linear layers. It does not own the base weights and does not
 * train: LoraModel puts it to work.
 */
package org.ringtrain.ops.lora;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.layers.Kernels;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.transformer.BlockAdapters;
import org.ringtrain.ops.transformer.BlockTensors;

/**
 * For each block and target layer {@code W} [IC, OC]: {@code lora_A} [IC, r] and {@code lora_B}
 * [r, OC], so the layer computes {@code x W + b + s (x A) B} with {@code s = alpha / r}. Names
 * {@code h.i.<layer>.lora_A}/{@code lora_B}, in [in, out] order like GPT-2's Conv1D (PEFT stores
 * the transposes). A starts as PEFT's Kaiming-uniform, U(-1/sqrt(IC), 1/sqrt(IC)), B at zero, so
 * the adapted model starts exactly as the base.
 *
 * <p>Memory: the adapters' parameters and gradients, plus two [N, r] scratch arrays for N = B*T
 * rows; forward keeps nothing (backward recomputes {@code x A}, N IC r FLOPs).
 */
final class LoraAdapters implements BlockAdapters, AutoCloseable {

  private final LoraConfig config;
  private final ParameterBuffer params;
  private final INDArray[][] a; // [layer][target] lora_A, null where untargeted
  private final INDArray[][] b; // [layer][target] lora_B
  private final long[] blockStart; // offset of each block's first adapter tensor
  private ParameterBuffer grads;
  private INDArray[][] da;
  private INDArray[][] db;
  private INDArray xa; // [N, r] x A
  private INDArray dxa; // [N, r] d(x A)

  LoraAdapters(ModelConfig base, LoraConfig config, DataType dataType) {
    this.config = config;
    this.params = ParameterBuffer.zeros(layout(base, config), dataType);
    int n = Target.values().length;
    this.a = new INDArray[base.layers()][n];
    this.b = new INDArray[base.layers()][n];
    this.blockStart = new long[base.layers()];
    view(params, a, b);
    for (int l = 0; l < base.layers(); l++) {
      blockStart[l] = params.layout().get(name(l, config.orderedTargets().get(0), "A")).offset();
    }
  }

  /** The adapters' layout for {@code base}: per block, per target in block order, lora_A then lora_B. */
  static ParameterLayout layout(ModelConfig base, LoraConfig config) {
    ParameterLayout.Builder b = ParameterLayout.builder("lora r=" + config.rank() + " alpha=" + config.alpha()
        + " targets=" + config.targetNames() + " of gpt2 " + base);
    for (int l = 0; l < base.layers(); l++) {
      for (Target t : config.orderedTargets()) {
        long[] w = shape(base, t);
        b.add(name(l, t, "A"), w[0], config.rank());
        b.add(name(l, t, "B"), config.rank(), w[1]);
      }
    }
    return b.build();
  }

  /** {@code h.i.<layer>.lora_A} or {@code lora_B}. */
  static String name(int layer, Target t, String which) {
    return BlockTensors.prefix(layer) + t.module() + ".lora_" + which;
  }

  /** The base weight's shape [IC, OC] for a target, from the block table. */
  static long[] shape(ModelConfig base, Target t) {
    for (BlockTensors.Spec s : BlockTensors.TABLE) {
      if (s.suffix().equals(t.module() + ".weight")) {
        return s.shape(base.dModel());
      }
    }
    throw new IllegalStateException("BlockTensors.TABLE has no " + t.module() + ".weight");
  }

  /** Fills every lora_A from {@code seed} (U(-1/sqrt(IC), 1/sqrt(IC))) and zeroes every lora_B. */
  void initialise(long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    params.zero();
    for (INDArray[] block : a) {
      for (INDArray x : block) {
        if (x != null) {
          double bound = 1.0 / Math.sqrt(x.size(0));
          double[] values = new double[Math.toIntExact(x.length())];
          for (int i = 0; i < values.length; i++) {
            values[i] = (2 * rng.nextDouble() - 1) * bound;
          }
          x.assign(Nd4j.createFromArray(values).reshape(x.shape()).castTo(x.dataType()));
        }
      }
    }
  }

  ParameterBuffer params() {
    return params;
  }

  /** The gradient buffer, allocated (zeroed) on first use. */
  ParameterBuffer grads() {
    if (grads == null) {
      grads = ParameterBuffer.zeros(params.layout(), params.dataType());
      da = new INDArray[a.length][Target.values().length];
      db = new INDArray[a.length][Target.values().length];
      view(grads, da, db);
    }
    return grads;
  }

  /** The offset of block {@code layer}'s first adapter tensor in the flat buffer. */
  long blockStart(int layer) {
    return blockStart[layer];
  }

  @Override
  public void forward(int layer, Target target, INDArray out, INDArray inp) {
    INDArray wa = a[layer][target.ordinal()];
    if (wa == null) {
      return;
    }
    INDArray t = scratch(inp.size(0), true);
    Kernels.gemm(t, inp, wa, false, false, 1.0, 0.0);
    Kernels.gemm(out, t, b[layer][target.ordinal()], false, false, config.scale(), 1.0);
  }

  @Override
  public void backward(int layer, Target target, INDArray dinp, INDArray dout, INDArray inp) {
    INDArray wa = a[layer][target.ordinal()];
    if (wa == null) {
      return;
    }
    grads();
    INDArray wb = b[layer][target.ordinal()];
    double s = config.scale();
    INDArray t = scratch(inp.size(0), true);
    INDArray dt = scratch(inp.size(0), false);
    Kernels.gemm(t, inp, wa, false, false, 1.0, 0.0); // x A again: cheaper than keeping it
    Kernels.gemm(db[layer][target.ordinal()], t, dout, true, false, s, 1.0); // dB += s (xA)^T dout
    Kernels.gemm(dt, dout, wb, false, true, s, 0.0); // d(xA) = s dout B^T
    Kernels.gemm(da[layer][target.ordinal()], inp, dt, true, false, 1.0, 1.0); // dA += x^T d(xA)
    Kernels.gemm(dinp, dt, wa, false, true, 1.0, 1.0); // dx += d(xA) A^T
  }

  /**
   * Adds {@code s A B} to each targeted weight of {@code base} (a GPT layout's buffer of the same
   * model): the merged weights compute what base + adapters computed.
   */
  void mergeInto(ParameterBuffer base) {
    for (int l = 0; l < a.length; l++) {
      for (Target t : config.orderedTargets()) {
        INDArray w = base.view(BlockTensors.prefix(l) + t.module() + ".weight");
        INDArray wa = a[l][t.ordinal()].castTo(w.dataType());
        INDArray wb = b[l][t.ordinal()].castTo(w.dataType());
        Kernels.gemm(w, wa, wb, false, false, config.scale(), 1.0);
      }
    }
  }

  @Override
  public void close() {
    params.close();
    if (grads != null) {
      grads.close();
    }
  }

  private void view(ParameterBuffer buffer, INDArray[][] as, INDArray[][] bs) {
    for (int l = 0; l < as.length; l++) {
      for (Target t : config.orderedTargets()) {
        as[l][t.ordinal()] = buffer.view(name(l, t, "A"));
        bs[l][t.ordinal()] = buffer.view(name(l, t, "B"));
      }
    }
  }

  private INDArray scratch(long rows, boolean first) {
    if (xa == null || xa.size(0) != rows) {
      xa = Nd4j.create(params.dataType(), rows, config.rank());
      dxa = Nd4j.create(params.dataType(), rows, config.rank());
    }
    return first ? xa : dxa;
  }
}
