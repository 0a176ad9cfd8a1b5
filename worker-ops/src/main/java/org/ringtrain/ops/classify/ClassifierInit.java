/*
 * ClassifierInit: the seeded parameter initialisation of both classifiers, bit-for-bit
 * reproducible in any JVM. It does not allocate the buffer and does not load word vectors.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.model.ParameterBuffer;
import org.ringtrain.ops.model.ParameterLayout;
import org.ringtrain.ops.model.SplitMix64;

/**
 * Initial values, tensor by tensor in buffer order from one {@link SplitMix64} stream (drawn in
 * double, rounded to float32, so FLOAT and DOUBLE buffers hold the same numbers):
 * <ul>
 *   <li>embeddings, Transformer linears and the head: N(0, 0.02) as GPT-2; the residual
 *       projections ({@code *.c_proj.weight}) N(0, 0.02 / sqrt(2 L)) (GPT-2 paper, section 2.3);</li>
 *   <li>LayerNorm weights 1, every other bias 0;</li>
 *   <li>LSTM {@code w_ih}, {@code w_hh}: U(-1/sqrt(H), 1/sqrt(H)) as PyTorch's nn.LSTM; the bias 0
 *       except the forget gate's quarter, 1 (Jozefowicz et al. 2015, "An Empirical Exploration of
 *       Recurrent Network Architectures"), so that early training does not forget.</li>
 * </ul>
 */
final class ClassifierInit {

  /** Standard deviation of the normal initialisation: 0.02, as GPT-2. */
  static final double STD = 0.02;

  private ClassifierInit() {
  }

  /** Fills {@code params} (the layout of a classifier of {@code config}) from {@code seed}. */
  static void initialise(ParameterBuffer params, ClassifierConfig config, long seed) {
    ParameterLayout layout = params.layout();
    double residualStd = STD / Math.sqrt(2.0 * config.layers());
    double lstmBound = 1.0 / Math.sqrt(config.dModel());
    int h = config.dModel();
    SplitMix64 rng = new SplitMix64(seed);
    for (ParameterLayout.TensorSpec t : layout.tensors()) {
      INDArray view = params.view(t.name());
      String name = t.name();
      if (name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.equals("ln_f.weight")) {
        view.assign(1.0);
      } else if (name.startsWith("lstm.") && name.endsWith(".bias")) {
        float[] bias = new float[4 * h];
        java.util.Arrays.fill(bias, h, 2 * h, 1f); // gate order i, f, g, o
        view.assign(Nd4j.createFromArray(bias));
      } else if (!t.decays()) {
        view.assign(0.0);
      } else {
        boolean lstm = name.startsWith("lstm.");
        double std = name.endsWith("c_proj.weight") ? residualStd : STD;
        float[] values = new float[Math.toIntExact(t.length())];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (lstm ? lstmBound * (2 * rng.nextDouble() - 1) : std * rng.nextGaussian());
        }
        view.assign(Nd4j.createFromArray(values).reshape(t.shape()));
      }
    }
  }
}
