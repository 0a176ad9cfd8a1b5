/*
 * GptInit: GPT-2's parameter initialisation from a seed, bit-for-bit reproducible in any JVM. It
 * does not allocate the buffer (see ParameterBuffer) and does not load checkpoints.
 */
package org.ringtrain.ops.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GPT-2 initialisation as in nanoGPT's {@code _init_weights}: every matrix and embedding from
 * N(0, 0.02), the residual projections {@code attn.c_proj.weight} and {@code mlp.c_proj.weight}
 * from N(0, 0.02 / sqrt(2 L)) (GPT-2 paper, section 2.3), biases 0, LayerNorm weights 1.
 *
 * <p>Values come from {@link SplitMix64}, not ND4J's RNG: ND4J's native generator is not specified
 * to give the same stream across ND4J versions, backends (CPU/CUDA) or thread counts, while every
 * rank of a data-parallel job must start from identical parameters. Each value is drawn in double,
 * rounded to float32 and then stored, so a FLOAT and a DOUBLE buffer hold the same numbers.
 */
public final class GptInit {

  /** Standard deviation of the normal initialisation: 0.02, as GPT-2. */
  public static final double STD = 0.02;

  private GptInit() {
  }

  /** Fills {@code params} (any layout from {@link ParameterLayout#gpt2}) from {@code seed}. */
  public static void initialise(ParameterBuffer params, long seed) {
    ParameterLayout layout = params.layout();
    double residualStd = STD / Math.sqrt(2.0 * layout.config().layers());
    SplitMix64 rng = new SplitMix64(seed);
    for (ParameterLayout.TensorSpec t : layout.tensors()) {
      INDArray view = params.view(t.name());
      String name = t.name();
      if (name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.equals("ln_f.weight")) {
        view.assign(1.0);
      } else if (!t.decays()) {
        view.assign(0.0);
      } else {
        double std = name.endsWith("c_proj.weight") ? residualStd : STD;
        float[] values = new float[Math.toIntExact(t.length())];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (std * rng.nextGaussian());
        }
        view.assign(Nd4j.createFromArray(values).reshape(t.shape()));
      }
    }
  }
}
