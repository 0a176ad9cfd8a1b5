/*
 * Dropout: inverted dropout (Srivastava et al., JMLR 2014; kept units scaled by 1/(1-p) during
 * training so that evaluation needs no rescaling) with masks that are a pure function of a key,
 * computed by org.ringtrain.ops.kernels.DropoutKernel. It keeps no mask: backward recomputes it
 * from the same key. It does not decide where dropout applies or which key a site gets (the
 * Transformer block and the model do), and evaluation simply does not call it.
 */
package org.ringtrain.ops.layers;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.kernels.DropoutKernel;

/**
 * {@code out = inp * m / (1 - p)}, {@code m} in {0, 1} drawn per element from the {@link Mask}.
 * The backward pass is the same operation on the gradient: {@code dinp = dout * m / (1 - p)}.
 */
public final class Dropout {

  private Dropout() {
  }

  /**
   * The mask of one array, seen as {@code [B, R, K]}: B samples, R rows per sample, K columns.
   * Element (b, r, k) is dropped with probability p, decided by its key
   * (siteKey, samples[b], r, k) alone (see {@link DropoutKernel}).
   *
   * @param p             drop probability, in (0, 1)
   * @param siteKey       {@link DropoutKernel#siteKey} of the site (seed, step, layer, site)
   * @param samples       B sample indices (the samples' indices in the training set); not copied
   * @param rowsPerSample R, for instance T for a [B*T, C] activation or NH*T for attention [B, NH, T, T]
   */
  public record Mask(double p, long siteKey, int[] samples, int rowsPerSample) {

    /** Checks p and the sizes; the array's shape is checked where the mask is applied. */
    public Mask {
      if (!(p > 0 && p < 1)) {
        throw new IllegalArgumentException("a dropout mask needs p in (0, 1), but found p=" + p
            + "; callers skip dropout entirely at p=0");
      }
      if (samples == null || samples.length == 0 || rowsPerSample <= 0) {
        throw new IllegalArgumentException("a dropout mask needs at least one sample and rowsPerSample > 0, but found "
            + (samples == null ? "null samples" : samples.length + " samples") + " and rowsPerSample=" + rowsPerSample);
      }
    }

    /** The factor kept units are multiplied by, {@code 1 / (1 - p)}. */
    public double scale() {
      return 1.0 / (1.0 - p);
    }
  }

  /**
   * The key of one dropout site of one training forward, from which all its masks derive (see
   * {@link DropoutKernel#siteKey}).
   *
   * @param seed  the run's seed
   * @param step  the optimizer step
   * @param layer the block, or -1 outside the blocks
   * @param site  which dropout of that layer
   */
  public static long siteKey(long seed, long step, int layer, int site) {
    return DropoutKernel.siteKey(seed, step, layer, site);
  }

  /**
   * Forward pass; {@code out} may be {@code inp} (in place).
   *
   * @param out  [B, R, K] (any shape of B*R*K elements, dense row-major) overwritten
   * @param inp  same shape
   * @param mask which elements are kept
   */
  public static void forward(INDArray out, INDArray inp, Mask mask) {
    long rows = (long) mask.samples().length * mask.rowsPerSample();
    if (inp.length() % rows != 0 || !DropoutKernel.accepts(out, inp)) {
      throw new IllegalArgumentException("dropout needs dense float32 or float64 arrays of the same length, a"
          + " multiple of B*R=" + rows + " (B=" + mask.samples().length + " samples, R=" + mask.rowsPerSample()
          + " rows each) and under 2^31 bytes, but found out " + out.dataType() + " " + Arrays.toString(out.shape())
          + " and inp " + inp.dataType() + " " + Arrays.toString(inp.shape()) + "; pass arena views of one batch");
    }
    DropoutKernel.apply(out, inp, mask.siteKey(), mask.samples(), mask.rowsPerSample(),
        DropoutKernel.threshold(mask.p()), mask.scale());
  }

  /**
   * Backward pass: {@code dinp = dout * m / (1 - p)} with the mask of the forward pass (the same
   * key gives the same mask); {@code dinp} may be {@code dout}.
   */
  public static void backward(INDArray dinp, INDArray dout, Mask mask) {
    forward(dinp, dout, mask);
  }
}
