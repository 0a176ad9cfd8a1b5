/*
 * TransformerInit: GPT-2's initialisation rule for every tensor of a model built of Transformer
 * blocks, the one rule the GPT decoder and the classifiers share. It draws nothing itself
 * (ParameterInit does) and has no rule for non-Transformer tensors beyond the generic ones.
 */
package org.ringtrain.ops.transformer;

import java.util.function.Function;
import org.ringtrain.ops.param.ParameterInit.Rule;
import org.ringtrain.ops.param.ParameterInit;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;

/**
 * As nanoGPT's {@code _init_weights}: every matrix and embedding (every rank-2 tensor) from
 * N(0, 0.02), the residual projections {@code *.c_proj.weight} from N(0, 0.02 / sqrt(2 L)) (GPT-2
 * paper, section 2.3), LayerNorm weights 1, every other vector (the biases) 0.
 */
public final class TransformerInit {

  /** Standard deviation of the normal initialisation: 0.02, as GPT-2. */
  public static final double STD = 0.02;

  private TransformerInit() {
  }

  /** The rule for a model of {@code layers} blocks. */
  public static Function<TensorSpec, Rule> rule(int layers) {
    double residualStd = STD / Math.sqrt(2.0 * layers);
    return t -> {
      String name = t.name();
      if (name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.equals(TransformerTrunk.LNF_WEIGHT)) {
        return new ParameterInit.Constant(1.0);
      }
      if (!t.decays()) {
        return new ParameterInit.Constant(0.0);
      }
      return new ParameterInit.Normal(name.endsWith("c_proj.weight") ? residualStd : STD);
    };
  }
}
