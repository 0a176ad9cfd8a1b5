/*
 * TransformerDropout: where a Transformer applies dropout during training, as GPT-2 and nanoGPT do
 * (the embeddings, the attention probabilities, and each residual branch's output before it is
 * added to the stream), and which key each of those sites gets. It computes nothing (the Dropout
 * layer does) and holds no arrays; a forward without dropout (evaluation, generation, p = 0)
 * uses NONE and does no mask work at all.
 */
package org.ringtrain.ops.transformer;

import org.ringtrain.ops.layers.Dropout;
import org.ringtrain.ops.layers.PackedRows;

/**
 * The dropout of one forward pass: a probability and a {@link DropoutKey}. Site keys follow
 * (seed, step, layer, site) and a mask's rows (sample, position[, head]); see
 * {@link Dropout}. Each accessor returns the {@link Dropout.Mask} of one site, or null when
 * this forward has no dropout.
 */
public final class TransformerDropout {

  /** No dropout: evaluation, generation, models configured with p = 0. */
  public static final TransformerDropout NONE = new TransformerDropout(0, null, 0, 0, null);

  /** Site numbers within a layer (part of the key: changing them changes every mask). */
  private static final int EMBEDDINGS = 0;
  private static final int ATTENTION = 1;
  private static final int ATTENTION_OUT = 2;
  private static final int MLP_OUT = 3;
  /** The "layer" of the embeddings, which sit before block 0. */
  private static final int BEFORE_BLOCKS = -1;

  private final double p;
  private final DropoutKey key;
  private final int seqLen;
  private final int heads;
  private final int[] rowOffsets; // null: token-wise arrays are [B*T, C]; else packed, see packed()

  private TransformerDropout(double p, DropoutKey key, int seqLen, int heads, int[] rowOffsets) {
    this.p = p;
    this.key = key;
    this.seqLen = seqLen;
    this.heads = heads;
    this.rowOffsets = rowOffsets;
  }

  /**
   * The dropout of a training forward of {@code batch} rows of {@code seqLen} tokens; {@link #NONE}
   * when {@code p} is 0 or {@code key} is null.
   *
   * @param p     drop probability in [0, 1)
   * @param key   the masks' key; its samples must hold one index per row
   * @param batch B
   * @param seqLen T
   * @param heads NH
   */
  public static TransformerDropout of(double p, DropoutKey key, int batch, int seqLen, int heads) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), but found " + p + "; use 0 to turn it off");
    }
    if (p == 0 || key == null) {
      return NONE;
    }
    if (key.samplesView().length != batch) {
      throw new IllegalArgumentException("a dropout key needs one sample index per row: expected " + batch
          + ", but found " + key.samplesView().length + "; pass the batch's sample indices in row order");
    }
    return new TransformerDropout(p, key, seqLen, heads, null);
  }

  /**
   * This dropout for a forward whose token-wise arrays (embeddings, the branches' outputs) are
   * packed as {@code rows} says: each token keeps the mask it has in the [B*T, C] layout, so packing
   * changes no kept or dropped unit. The attention probabilities stay [B, NH, T, T].
   */
  public TransformerDropout packed(PackedRows rows) {
    return active() ? new TransformerDropout(p, key, seqLen, heads, rows.offsets()) : this;
  }

  /** Whether this forward drops anything; false for {@link #NONE}. */
  public boolean active() {
    return key != null;
  }

  /** The mask of the embeddings (token + position) [B*T, C] (or packed), or null. */
  public Dropout.Mask embeddings() {
    return tokenWise(mask(BEFORE_BLOCKS, EMBEDDINGS, seqLen));
  }

  /** The mask of block {@code layer}'s attention probabilities [B, NH, T, T], or null. */
  public Dropout.Mask attention(int layer) {
    return mask(layer, ATTENTION, heads * seqLen);
  }

  /** The mask of block {@code layer}'s attention projection output [B*T, C] (or packed), or null. */
  public Dropout.Mask attentionOut(int layer) {
    return tokenWise(mask(layer, ATTENTION_OUT, seqLen));
  }

  /** The mask of block {@code layer}'s MLP output [B*T, C] (or packed), or null. */
  public Dropout.Mask mlpOut(int layer) {
    return tokenWise(mask(layer, MLP_OUT, seqLen));
  }

  private Dropout.Mask tokenWise(Dropout.Mask mask) {
    return mask == null || rowOffsets == null ? mask : mask.packed(rowOffsets);
  }

  private Dropout.Mask mask(int layer, int site, int rowsPerSample) {
    if (key == null) {
      return null;
    }
    return new Dropout.Mask(p, Dropout.siteKey(key.seed(), key.step(), layer, site), key.samplesView(),
        rowsPerSample);
  }
}
