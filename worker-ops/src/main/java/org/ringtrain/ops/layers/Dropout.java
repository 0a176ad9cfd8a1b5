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
   * @param rowOffsets    null for the [B, R, K] layout; else B+1 row starts of a packed [rows, K]
   *                      array ({@link PackedRows}): sample b has rows
   *                      {@code rowOffsets[b] .. rowOffsets[b+1]-1}, its row r has the key of row
   *                      {@code r - rowOffsets[b]} of the [B, R, K] layout (so packed and padded rows
   *                      of one token get the same mask), and rows past rowOffsets[B] pass unchanged
   */
  public record Mask(double p, long siteKey, int[] samples, int rowsPerSample, int[] rowOffsets) {

    /** The mask of a [B, R, K] array. */
    public Mask(double p, long siteKey, int[] samples, int rowsPerSample) {
      this(p, siteKey, samples, rowsPerSample, null);
    }

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
      if (rowOffsets != null && rowOffsets.length != samples.length + 1) {
        throw new IllegalArgumentException("a packed dropout mask needs B+1=" + (samples.length + 1)
            + " row offsets, but found " + rowOffsets.length + "; pass PackedRows.offsets() of the same batch");
      }
    }

    /** This mask for the packed layout with these B+1 row starts (see {@link #rowOffsets}). */
    public Mask packed(int[] offsets) {
      return new Mask(p, siteKey, samples, rowsPerSample, offsets);
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
    if (mask.rowOffsets() != null) {
      forwardPacked(out, inp, mask);
      return;
    }
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
   * {@link #forward} of attention probabilities [B, NH, T, T] inside each (sample, head)'s
   * [len, len] block only (attention over per-sample lengths reads nothing else): the masks there
   * are those of {@link #forward}; entries outside the blocks are left as they were.
   *
   * @param mask    rows per sample NH*T, as for the whole array
   * @param lengths B sample lengths in [1, T]
   */
  public static void forwardBlocks(INDArray out, INDArray inp, Mask mask, int[] lengths) {
    if (inp.rank() != 4 || inp.size(2) != inp.size(3) || lengths.length != mask.samples().length
        || mask.rowsPerSample() != inp.size(1) * inp.size(2) || mask.rowOffsets() != null
        || !DropoutKernel.accepts(out, inp)) {
      throw new IllegalArgumentException("block dropout needs dense float32 or float64 [B, NH, T, T] arrays of one"
          + " shape, B lengths and a [B, NH*T, T] mask, but found out " + Arrays.toString(out.shape()) + ", inp "
          + Arrays.toString(inp.shape()) + ", " + lengths.length + " lengths and a mask of " + mask.samples().length
          + " samples x " + mask.rowsPerSample() + " rows; pass attention's arrays with its mask");
    }
    DropoutKernel.applyBlocks(out, inp, mask.siteKey(), mask.samples(), lengths, DropoutKernel.threshold(mask.p()),
        mask.scale());
  }

  /** {@link #forward} of a packed [rows, K] array (a mask with {@link Mask#rowOffsets}). */
  private static void forwardPacked(INDArray out, INDArray inp, Mask mask) {
    int[] offsets = mask.rowOffsets();
    if (inp.rank() != 2 || inp.size(0) < offsets[offsets.length - 1] || !DropoutKernel.accepts(out, inp)) {
      throw new IllegalArgumentException("packed dropout needs dense float32 or float64 [rows, K] arrays of the same"
          + " length with rows >= " + offsets[offsets.length - 1] + " (the batch's tokens), but found out "
          + out.dataType() + " " + Arrays.toString(out.shape()) + " and inp " + inp.dataType() + " "
          + Arrays.toString(inp.shape()) + "; pass packed arena views of one batch");
    }
    DropoutKernel.applyPacked(out, inp, mask.siteKey(), mask.samples(), offsets, DropoutKernel.threshold(mask.p()),
        mask.scale());
  }

  /**
   * Backward pass: {@code dinp = dout * m / (1 - p)} with the mask of the forward pass (the same
   * key gives the same mask); {@code dinp} may be {@code dout}.
   */
  public static void backward(INDArray dinp, INDArray dout, Mask mask) {
    forward(dinp, dout, mask);
  }
}
