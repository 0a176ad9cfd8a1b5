/*
 * BlockActivations: what one Transformer block keeps from its forward pass for its backward pass,
 * carved from an Arena for one (B, T) batch shape, its token-wise arrays either [B*T, C] or
 * packed [R, C] (PackedRows). It computes nothing; TransformerBlock fills and reads it. Scratch
 * shared by all blocks is in BlockScratch.
 */
package org.ringtrain.ops.transformer;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.Arena;

/**
 * Per block, in float elements per token: {@code 16 C + 4 + NH T} (ln1 C, its mean and rstd,
 * q/k/v split into heads 3C, attention probabilities NH*T, atty C, residual2 C, ln2 C and its
 * mean and rstd, fch 4C, GELU's sigmoid 4C, the output C). The GELU output is not kept: backward
 * recomputes it from fch and fchSig, which is cheaper than keeping it. With packed rows the
 * token-wise arrays have R rows (the batch's tokens, rounded up) instead of B*T; qkvh and att stay
 * padded, attention's layout.
 */
public final class BlockActivations {

  public final INDArray ln1; // [B*T, C]
  public final INDArray ln1Mean; // [B*T]
  public final INDArray ln1Rstd; // [B*T]
  public final INDArray qkvh; // [3, B, NH, T, HS]
  public final INDArray att; // [B, NH, T, T] attention probabilities
  public final INDArray atty; // [B*T, C] attention output before the projection
  public final INDArray residual2; // [B*T, C] the residual stream after attention
  public final INDArray ln2; // [B*T, C]
  public final INDArray ln2Mean; // [B*T]
  public final INDArray ln2Rstd; // [B*T]
  public final INDArray fch; // [B*T, 4C]
  public final INDArray fchSig; // [B*T, 4C] GELU's sigmoid(2u), see Gelu
  public final INDArray out; // [B*T, C] the residual stream after the MLP: the block's output

  /** Takes this block's arrays for a (b, t) batch of {@code n} token rows (b*t, or packed R) from {@code arena}. */
  BlockActivations(Arena arena, long n, long b, long t, long c, long nh) {
    ln1 = arena.take(n, c);
    ln1Mean = arena.take(n);
    ln1Rstd = arena.take(n);
    qkvh = arena.take(3, b, nh, t, c / nh);
    att = arena.take(b, nh, t, t);
    atty = arena.take(n, c);
    residual2 = arena.take(n, c);
    ln2 = arena.take(n, c);
    ln2Mean = arena.take(n);
    ln2Rstd = arena.take(n);
    fch = arena.take(n, 4 * c);
    fchSig = arena.take(n, 4 * c);
    out = arena.take(n, c);
  }

  /**
   * A block that shares every array of {@code shared} but its own output: with activation
   * recomputation, all blocks write their intermediate activations into one set, keep only their
   * outputs (the next block's input), and recompute the rest during backward.
   */
  BlockActivations(BlockActivations shared, INDArray out) {
    ln1 = shared.ln1;
    ln1Mean = shared.ln1Mean;
    ln1Rstd = shared.ln1Rstd;
    qkvh = shared.qkvh;
    att = shared.att;
    atty = shared.atty;
    residual2 = shared.residual2;
    ln2 = shared.ln2;
    ln2Mean = shared.ln2Mean;
    ln2Rstd = shared.ln2Rstd;
    fch = shared.fch;
    fchSig = shared.fchSig;
    this.out = out;
  }
}
