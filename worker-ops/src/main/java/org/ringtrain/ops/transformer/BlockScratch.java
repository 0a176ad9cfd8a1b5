/*
 * BlockScratch: the arrays every Transformer block uses in turn during its forward or backward
 * pass and does not keep, carved from an Arena for one (B, T) batch shape (token-wise arrays [B*T, .]
 * or packed [R, .]). Shared by all blocks and by the final LayerNorm; it computes nothing.
 */
package org.ringtrain.ops.transformer;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.Arena;

/**
 * {@code 28 C + NH T + NH + 1} float elements per token, whatever the number of blocks. Attention
 * needs one [B, NH, T, T] array besides the kept probabilities: with dropout it holds the dropped
 * probabilities (forward, and backward until v's gradient has read them), then the probabilities'
 * gradient. With packed rows, attention's input and output get padded copies (qkvPadded,
 * attyPadded: {@code 4 C} more per padded position), which backward reuses for its gradients.
 */
public final class BlockScratch {

  public final INDArray qkv; // [B*T, 3C] forward
  public final INDArray proj; // [B*T, C] forward (attention and MLP projections)
  public final INDArray fchGelu; // [B*T, 4C] the GELU output, recomputed in backward
  public final INDArray yh; // [B, NH, T, HS] forward
  public final INDArray dln; // [B*T, C] gradient of a LayerNorm's output
  public final INDArray datty; // [B*T, C]
  public final INDArray dqkv; // [B*T, 3C]
  public final INDArray dfchGelu; // [B*T, 4C]
  public final INDArray dfch; // [B*T, 4C]
  public final INDArray lnXhat; // [B*T, C]
  public final INDArray lnTmp; // [B*T, C]
  public final INDArray rowTmp; // [B*T]
  public final INDArray dyh; // [B, NH, T, HS]
  public final INDArray datt; // [B, NH, T, T] the dropped probabilities, then the probabilities' gradient
  public final INDArray rowSum; // [B, NH, T]
  public final INDArray dqkvh; // [3, B, NH, T, HS]
  public final INDArray qkvPadded; // [B*T, 3C] packed rows only (else null): qkv forward, dqkv backward
  public final INDArray attyPadded; // [B*T, C] packed rows only (else null): atty forward, datty backward

  /**
   * Takes the scratch arrays for a (b, t) batch of {@code n} token rows from {@code arena}; with
   * {@code packed}, also the padded copies around attention.
   */
  BlockScratch(Arena arena, long n, long b, long t, long c, long nh, boolean packed) {
    long hs = c / nh;
    qkv = arena.take(n, 3 * c);
    proj = arena.take(n, c);
    fchGelu = arena.take(n, 4 * c);
    yh = arena.take(b, nh, t, hs);
    dln = arena.take(n, c);
    datty = arena.take(n, c);
    dqkv = arena.take(n, 3 * c);
    dfchGelu = arena.take(n, 4 * c);
    dfch = arena.take(n, 4 * c);
    lnXhat = arena.take(n, c);
    lnTmp = arena.take(n, c);
    rowTmp = arena.take(n);
    dyh = arena.take(b, nh, t, hs);
    datt = arena.take(b, nh, t, t);
    rowSum = arena.take(b, nh, t);
    dqkvh = arena.take(3, b, nh, t, hs);
    qkvPadded = packed ? arena.take(b * t, 3 * c) : null;
    attyPadded = packed ? arena.take(b * t, c) : null;
  }
}
