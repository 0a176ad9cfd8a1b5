/*
 * ParameterInit: fills a flat parameter buffer tensor by tensor from one seeded SplitMix64
 * stream, each tensor by a rule the model chooses (constant, normal, uniform, given values). The
 * rules of Transformer models are in TransformerInit; this class knows no model and allocates no
 * buffer.
 */
package org.ringtrain.ops.param;

import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;

/**
 * Seeded initialisation, bit-for-bit reproducible in any JVM.
 *
 * <p>Values come from {@link SplitMix64}, not ND4J's RNG: ND4J's native generator is not specified
 * to give the same stream across ND4J versions, backends (CPU/CUDA) or thread counts, while every
 * rank of a data-parallel job must start from identical parameters. Tensors are visited in buffer
 * order and draw from one stream; each value is drawn in double, rounded to float32 and then
 * stored, so a FLOAT and a DOUBLE buffer hold the same numbers.
 */
public final class ParameterInit {

  /** How one tensor starts. */
  public sealed interface Rule permits Constant, Normal, Uniform, Values {
  }

  /** Every element {@code value}; draws nothing. */
  public record Constant(double value) implements Rule {
  }

  /** Every element from N(0, std²), one Gaussian draw each. */
  public record Normal(double std) implements Rule {
  }

  /** Every element from U(-bound, bound), one uniform draw each. */
  public record Uniform(double bound) implements Rule {
  }

  /** These values, in c order (length = the tensor's); draws nothing. */
  public record Values(float[] values) implements Rule {
  }

  private ParameterInit() {
  }

  /** Fills every tensor of {@code params} by {@code rules}, drawing from one stream seeded with {@code seed}. */
  public static void initialise(ParameterBuffer params, long seed, Function<TensorSpec, Rule> rules) {
    SplitMix64 rng = new SplitMix64(seed);
    for (TensorSpec t : params.layout().tensors()) {
      INDArray view = params.view(t.name());
      Rule rule = rules.apply(t);
      if (rule instanceof Constant c) {
        view.assign(c.value());
      } else if (rule instanceof Values v) {
        if (v.values().length != t.length()) {
          throw new IllegalArgumentException("initial values for " + t.name() + " must number " + t.length()
              + ", but found " + v.values().length);
        }
        view.assign(Nd4j.createFromArray(v.values()).reshape(t.shape()));
      } else {
        float[] values = new float[Math.toIntExact(t.length())];
        if (rule instanceof Normal n) {
          for (int i = 0; i < values.length; i++) {
            values[i] = (float) (n.std() * rng.nextGaussian());
          }
        } else {
          double bound = ((Uniform) rule).bound();
          for (int i = 0; i < values.length; i++) {
            values[i] = (float) (bound * (2 * rng.nextDouble() - 1));
          }
        }
        view.assign(Nd4j.createFromArray(values).reshape(t.shape()));
      }
    }
  }
}
