/*
 * TransformerActivations: every array the Transformer trunk (blocks + final LayerNorm) needs for
 * one (B, T) batch shape: the embeddings it starts from, each block's kept activations, the final
 * LayerNorm's, the shared scratch and the residual stream's gradient. Carved from an Arena; it
 * computes nothing. A model's own arrays (tokens, masks, heads, logits) live with the model.
 */
package org.ringtrain.ops.transformer;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.Arena;

/**
 * Float elements per token: {@code C} (encoded) + {@code L (16 C + 4 + NH T)} kept by the blocks
 * ({@link BlockActivations}) + {@code C + 2} for the final LayerNorm + {@code 29 C + NH T + NH + 1}
 * of scratch and the residual gradient ({@link BlockScratch} and {@link #dresidual}).
 *
 * <p>With {@link #recompute}, the blocks keep only their outputs ({@code L C}) and share one set
 * of the other activations ({@code 15 C + 4 + NH T}), which backward recomputes block by block.
 */
public final class TransformerActivations {

  public final INDArray ones; // [1, >= B*T] (packed: >= R) all ones, owned by the model
  public final INDArray encoded; // [B*T, C] (packed: [R, C], as every token-wise array here) the embeddings: the model writes them, block 0 reads them
  public final BlockActivations[] blocks; // L
  public final INDArray lnf; // [B*T, C] the trunk's output
  public final INDArray lnfMean; // [B*T]
  public final INDArray lnfRstd; // [B*T]
  public final BlockScratch scratch;
  public final INDArray dresidual; // [B*T, C] gradient of the residual stream; of encoded after backward
  public final boolean recompute; // whether the blocks share their activations and backward recomputes them

  /**
   * Takes every array of a (b, t) batch from {@code arena}.
   *
   * @param ones   [1, >= b*t] all ones, which the model owns (it may use them for its own layers)
   * @param layers L
   * @param c      C
   * @param heads  NH
   * @param recompute keep only each block's output and recompute the rest in backward
   */
  public TransformerActivations(Arena arena, INDArray ones, long b, long t, int layers, long c, long heads,
      boolean recompute) {
    this(arena, ones, b * t, b, t, layers, c, heads, recompute, false);
  }

  /**
   * As the constructor above, with the token-wise arrays (the residual stream, the layer norms,
   * the linear layers' inputs and outputs) of {@code n} rows: with {@code packed}, R packed rows
   * of {@link PackedRows}, and the padded copies attention needs; without, {@code n = b*t}.
   */
  public TransformerActivations(Arena arena, INDArray ones, long n, long b, long t, int layers, long c, long heads,
      boolean recompute, boolean packed) {
    this.ones = ones;
    this.recompute = recompute;
    encoded = arena.take(n, c);
    blocks = new BlockActivations[layers];
    BlockActivations shared = recompute ? new BlockActivations(arena, n, b, t, c, heads) : null;
    for (int l = 0; l < layers; l++) {
      blocks[l] = recompute
          ? (l == 0 ? shared : new BlockActivations(shared, arena.take(n, c)))
          : new BlockActivations(arena, n, b, t, c, heads);
    }
    lnf = arena.take(n, c);
    lnfMean = arena.take(n);
    lnfRstd = arena.take(n);
    scratch = new BlockScratch(arena, n, b, t, c, heads, packed);
    dresidual = arena.take(n, c);
  }

  /** Block {@code l}'s input: the embeddings for block 0, else the previous block's output. */
  public INDArray blockInput(int l) {
    return l == 0 ? encoded : blocks[l - 1].out;
  }
}
