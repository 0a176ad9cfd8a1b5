/*
 * CachedAttention: causal self-attention for one new token per sequence against a KV cache, the
 * decoding counterpart of Attention. It has no backward (decoding does not train) and does not own
 * the cache (see org.ringtrain.ops.gpt.KvCache).
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Appends the new token's k and v at position {@code pos} of the cache, then attends from its q
 * over every cache slot, with slots after {@code pos} masked by {@code maskRow}. Scores span the
 * whole cache (fixed shapes, no allocation); masked slots get probability exactly 0, so the result
 * equals a full causal forward up to float rounding.
 */
public final class CachedAttention {

  private CachedAttention() {
  }

  /**
   * Opens slot {@code pos} of the mask row: call once per step before {@link #forward}.
   *
   * @param maskRow [maxT], {@link Attention#MASKED} at slots not yet filled, 0 at filled ones
   */
  public static void openSlot(INDArray maskRow, int pos) {
    maskRow.putScalar(pos, 0.0);
  }

  /**
   * Forward pass for one position.
   *
   * @param out     [B, C] output, overwritten
   * @param kCache  [B, NH, maxT, HS] keys; slot pos is written
   * @param vCache  [B, NH, maxT, HS] values; slot pos is written
   * @param qh      [B, NH, 1, HS] scratch
   * @param scores  [B, NH, 1, maxT] scratch
   * @param yh      [B, NH, 1, HS] scratch
   * @param inp     [B, 3C] packed q, k, v of the new tokens
   * @param maskRow [maxT] from {@link #openSlot}
   * @param pos     position of the new tokens, in [0, maxT)
   * @param batch   B
   * @param heads   NH
   */
  public static void forward(INDArray out, INDArray kCache, INDArray vCache, INDArray qh, INDArray scores,
      INDArray yh, INDArray inp, INDArray maskRow, int pos, int batch, int heads) {
    long hs = inp.size(1) / 3 / heads;
    INDArray qkv = inp.reshape(batch, 3, heads, hs); // [B, 3, NH, HS]
    INDArrayIndex slot = NDArrayIndex.point(pos);
    kCache.get(NDArrayIndex.all(), NDArrayIndex.all(), slot, NDArrayIndex.all())
        .assign(qkv.get(NDArrayIndex.all(), NDArrayIndex.point(1), NDArrayIndex.all(), NDArrayIndex.all()));
    vCache.get(NDArrayIndex.all(), NDArrayIndex.all(), slot, NDArrayIndex.all())
        .assign(qkv.get(NDArrayIndex.all(), NDArrayIndex.point(2), NDArrayIndex.all(), NDArrayIndex.all()));
    qh.reshape(batch, heads, hs)
        .assign(qkv.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all()));
    Kernels.bmm(scores, qh, kCache, false, true, 1.0 / Math.sqrt(hs), 0.0);
    Kernels.broadcastAdd(scores, scores, maskRow);
    Nd4j.exec(new SoftMax(scores, scores, 3));
    Kernels.bmm(yh, scores, vCache, false, false, 1.0, 0.0);
    out.assign(yh.reshape(batch, heads * hs)); // [B, NH, 1, HS] is already [B, C] in memory
  }
}
