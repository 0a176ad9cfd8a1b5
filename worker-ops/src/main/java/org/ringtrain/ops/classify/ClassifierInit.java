/*
 * ClassifierInit: the initialisation rule of both classifiers: the Transformer tensors (and the
 * embeddings and head) by TransformerInit's GPT-2 rule, the LSTM weights as PyTorch's nn.LSTM. It
 * draws nothing itself (ParameterInit does), allocates nothing and does not load word vectors.
 */
package org.ringtrain.ops.classify;

import java.util.Arrays;
import java.util.function.Function;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterInit.Rule;
import org.ringtrain.ops.param.ParameterInit;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;
import org.ringtrain.ops.transformer.TransformerInit;

/**
 * Initial values, from one seeded stream in buffer order (see {@link ParameterInit}):
 * <ul>
 *   <li>embeddings, Transformer tensors and the head: {@link TransformerInit} (GPT-2's);</li>
 *   <li>LSTM {@code w_ih}, {@code w_hh}: U(-1/sqrt(H), 1/sqrt(H)) as PyTorch's nn.LSTM; the bias 0
 *       except the forget gate's quarter, 1 (Jozefowicz et al. 2015, "An Empirical Exploration of
 *       Recurrent Network Architectures"), so that early training does not forget.</li>
 * </ul>
 */
final class ClassifierInit {

  private ClassifierInit() {
  }

  /** Fills {@code params} (the layout of a classifier of {@code config}) from {@code seed}. */
  static void initialise(ParameterBuffer params, ClassifierConfig config, long seed) {
    ParameterInit.initialise(params, seed, rule(config));
  }

  private static Function<TensorSpec, Rule> rule(ClassifierConfig config) {
    Function<TensorSpec, Rule> transformer = TransformerInit.rule(config.layers());
    int h = config.dModel();
    double lstmBound = 1.0 / Math.sqrt(h);
    return t -> {
      if (!t.name().startsWith(LstmClassifier.PREFIX)) {
        return transformer.apply(t);
      }
      if (t.name().endsWith(".bias")) {
        float[] bias = new float[4 * h];
        Arrays.fill(bias, h, 2 * h, 1f); // gate order i, f, g, o
        return new ParameterInit.Values(bias);
      }
      return new ParameterInit.Uniform(lstmBound);
    };
  }
}
