/*
 * TransformerBlock: the forward and backward pass of one pre-LayerNorm Transformer block, GPT-2's
 * (x += proj(attn(LN1(x))); x += mlp(LN2(x))), written once for every model built of such
 * blocks. Whether attention is causal or bidirectional is only the mask the caller passes, and
 * whether it drops out (training) only the TransformerDropout. It owns no memory: weights,
 * gradients, kept activations and scratch are all given.
 */
package org.ringtrain.ops.transformer;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.layers.Attention;
import org.ringtrain.ops.layers.Dropout;
import org.ringtrain.ops.layers.Gelu;
import org.ringtrain.ops.layers.LayerNorm;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.PackedRows;
import org.ringtrain.ops.layers.Residual;

/**
 * One block, as a forward/backward pair in llm.c's argument order (outputs, inputs, weights,
 * scratch, sizes).
 *
 * <p>The residual connections' backward is the identity for both inputs, so the gradient of the
 * residual stream lives in one buffer ({@code dresidual}) that the block's two branches read as
 * their output gradient and add their input gradient back into; Residual.backward is therefore
 * not called (as in llm.c's CUDA trainer).
 *
 * <p>Dropout, as GPT-2 and nanoGPT have it: on the attention probabilities and on each branch's
 * output before the residual add, {@code x += drop(proj(attn(LN1(x))))}, {@code x += drop(mlp(LN2(x)))}.
 * No mask is kept: backward recomputes each from its key, and with {@link TransformerDropout#NONE}
 * the arithmetic is exactly that of the block without dropout.
 *
 * <p>Frozen weights and adapters (fine-tuning): a null weight gradient in {@code dw} marks a frozen
 * weight, whose gradient backward does not compute (its dW gemm is skipped); {@link BlockAdapters},
 * when given, add low-rank terms beside the four linear layers.
 */
public final class TransformerBlock {

  private TransformerBlock() {
  }

  /**
   * Forward pass of one block.
   *
   * @param acts   this block's kept activations; {@code acts.out} [B*T, C] is the block's output
   * @param s      scratch shared by the blocks
   * @param inp    [B*T, C] the block's input (the previous block's output or the embeddings)
   * @param mask   added to the attention scores: [T, T] causal ({@link Attention#causalMask}) or
   *               a key padding mask [B, 1, 1, T]
   * @param drop   this forward's dropout ({@link TransformerDropout#NONE} for none)
   * @param layer  this block's index, part of its dropout masks' keys
   * @param w      the block's weights
   * @param batch  B
   * @param seqLen T
   * @param heads  NH
   */
  public static void forward(BlockActivations acts, BlockScratch s, INDArray inp, INDArray mask,
      TransformerDropout drop, int layer, BlockTensors w, int batch, int seqLen, int heads) {
    forward(acts, s, inp, mask, drop, layer, w, null, null, batch, seqLen, heads);
  }

  /**
   * {@link #forward} with {@code adapters} (null for none) beside the linear layers, and the
   * token-wise arrays either [B*T, C] ({@code packing} null) or packed as {@code packing} says:
   * then only attention sees the padded layout, its input and output moved across around it, and
   * it computes each row's own positions only (Attention's lengths).
   */
  public static void forward(BlockActivations acts, BlockScratch s, INDArray inp, INDArray mask,
      TransformerDropout drop, int layer, BlockTensors w, BlockAdapters adapters, PackedRows packing, int batch,
      int seqLen, int heads) {
    Dropout.Mask attDrop = drop.attention(layer);
    Dropout.Mask attOutDrop = drop.attentionOut(layer);
    Dropout.Mask mlpOutDrop = drop.mlpOut(layer);
    LayerNorm.forward(acts.ln1, acts.ln1Mean, acts.ln1Rstd, inp, w.ln1w(), w.ln1b());
    Linear.forward(s.qkv, acts.ln1, w.qkvW(), w.qkvB());
    adapt(adapters, layer, BlockAdapters.Target.QKV, s.qkv, acts.ln1);
    if (packing == null) {
      Attention.forward(acts.atty, acts.qkvh, acts.att, s.yh, s.qkv, mask, attDrop, s.datt, batch, seqLen, heads);
    } else {
      packing.toPadded(s.qkvPadded, s.qkv);
      Attention.forward(s.attyPadded, acts.qkvh, acts.att, s.yh, s.qkvPadded, mask, attDrop, s.datt, packing.lengths(),
          batch, seqLen, heads);
      packing.toPacked(acts.atty, s.attyPadded);
    }
    Linear.forward(s.proj, acts.atty, w.attProjW(), w.attProjB());
    adapt(adapters, layer, BlockAdapters.Target.ATTN_PROJ, s.proj, acts.atty);
    if (attOutDrop != null) {
      Dropout.forward(s.proj, s.proj, attOutDrop);
    }
    Residual.forward(acts.residual2, inp, s.proj);
    LayerNorm.forward(acts.ln2, acts.ln2Mean, acts.ln2Rstd, acts.residual2, w.ln2w(), w.ln2b());
    Linear.forward(acts.fch, acts.ln2, w.fcW(), w.fcB());
    adapt(adapters, layer, BlockAdapters.Target.FC, acts.fch, acts.ln2);
    Gelu.forward(s.fchGelu, acts.fchSig, acts.fch);
    Linear.forward(s.proj, s.fchGelu, w.fcProjW(), w.fcProjB());
    adapt(adapters, layer, BlockAdapters.Target.MLP_PROJ, s.proj, s.fchGelu);
    if (mlpOutDrop != null) {
      Dropout.forward(s.proj, s.proj, mlpOutDrop);
    }
    Residual.forward(acts.out, acts.residual2, s.proj);
  }

  /**
   * Backward pass of one block: the layers of {@link #forward} in exactly the reverse order.
   *
   * @param dresidual [B*T, C] (or packed [R, C]) in: the gradient of the block's output; out: the gradient of its input
   * @param dw        the block's weight gradients, accumulated; a null linear weight gradient skips
   *                  that weight's dW gemm (a frozen weight)
   * @param acts      this block's activations from forward
   * @param s         scratch shared by the blocks
   * @param inp       [B*T, C] the block's forward input
   * @param drop      the dropout the forward used
   * @param layer     this block's index
   * @param w         the block's weights
   * @param ones      [1, >= B*T] all ones
   * @param batch     B
   * @param seqLen    T
   * @param heads     NH
   */
  public static void backward(INDArray dresidual, BlockTensors dw, BlockActivations acts, BlockScratch s,
      INDArray inp, TransformerDropout drop, int layer, BlockTensors w, INDArray ones, int batch, int seqLen,
      int heads) {
    backward(dresidual, dw, acts, s, inp, drop, layer, w, null, null, ones, batch, seqLen, heads);
  }

  /** {@link #backward} of a forward with {@code adapters} (null for none) and {@code packing} (null for none). */
  public static void backward(INDArray dresidual, BlockTensors dw, BlockActivations acts, BlockScratch s,
      INDArray inp, TransformerDropout drop, int layer, BlockTensors w, BlockAdapters adapters, PackedRows packing,
      INDArray ones, int batch, int seqLen, int heads) {
    Dropout.Mask attDrop = drop.attention(layer);
    Dropout.Mask attOutDrop = drop.attentionOut(layer);
    Dropout.Mask mlpOutDrop = drop.mlpOut(layer);
    Gelu.output(s.fchGelu, acts.fch, acts.fchSig); // the GELU output, cheaper to recompute than to keep
    // A branch's output gradient is the stream's, masked: into s.proj (forward scratch, free here).
    INDArray dmlpOut = dresidual;
    if (mlpOutDrop != null) {
      Dropout.backward(s.proj, dresidual, mlpOutDrop);
      dmlpOut = s.proj;
    }
    Linear.backward(s.dfchGelu, dw.fcProjW(), dw.fcProjB(), dmlpOut, s.fchGelu, w.fcProjW(), ones);
    adaptBack(adapters, layer, BlockAdapters.Target.MLP_PROJ, s.dfchGelu, dmlpOut, s.fchGelu);
    Gelu.backward(s.dfch, s.dfchGelu, acts.fch, acts.fchSig, s.fchGelu);
    Linear.backward(s.dln, dw.fcW(), dw.fcB(), s.dfch, acts.ln2, w.fcW(), ones);
    adaptBack(adapters, layer, BlockAdapters.Target.FC, s.dln, s.dfch, acts.ln2);
    LayerNorm.backward(dresidual, dw.ln2w(), dw.ln2b(), s.dln, acts.residual2, w.ln2w(),
        acts.ln2Mean, acts.ln2Rstd, s.lnXhat, s.lnTmp, s.rowTmp, ones);
    INDArray dattOut = dresidual;
    if (attOutDrop != null) {
      Dropout.backward(s.proj, dresidual, attOutDrop);
      dattOut = s.proj;
    }
    Linear.backward(s.datty, dw.attProjW(), dw.attProjB(), dattOut, acts.atty, w.attProjW(), ones);
    adaptBack(adapters, layer, BlockAdapters.Target.ATTN_PROJ, s.datty, dattOut, acts.atty);
    if (packing == null) {
      Attention.backward(s.dqkv, s.datty, acts.qkvh, acts.att, s.dyh, s.datt, s.datt, s.rowSum, s.dqkvh, attDrop,
          batch, seqLen, heads);
    } else {
      // Padding positions get datty 0 (no output reads them); slack rows get dqkv 0 (no weight sees them).
      packing.toPadded(s.attyPadded, s.datty);
      Attention.backward(s.qkvPadded, s.attyPadded, acts.qkvh, acts.att, s.dyh, s.datt, s.datt, s.rowSum, s.dqkvh,
          attDrop, packing.lengths(), batch, seqLen, heads);
      packing.toPacked(s.dqkv, s.qkvPadded);
    }
    Linear.backward(s.dln, dw.qkvW(), dw.qkvB(), s.dqkv, acts.ln1, w.qkvW(), ones);
    adaptBack(adapters, layer, BlockAdapters.Target.QKV, s.dln, s.dqkv, acts.ln1);
    LayerNorm.backward(dresidual, dw.ln1w(), dw.ln1b(), s.dln, inp, w.ln1w(),
        acts.ln1Mean, acts.ln1Rstd, s.lnXhat, s.lnTmp, s.rowTmp, ones);
  }

  private static void adapt(BlockAdapters adapters, int layer, BlockAdapters.Target target, INDArray out,
      INDArray inp) {
    if (adapters != null) {
      adapters.forward(layer, target, out, inp);
    }
  }

  private static void adaptBack(BlockAdapters adapters, int layer, BlockAdapters.Target target, INDArray dinp,
      INDArray dout, INDArray inp) {
    if (adapters != null) {
      adapters.backward(layer, target, dinp, dout, inp);
    }
  }
}
