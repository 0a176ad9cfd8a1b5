/*
 * HeadsKernel: the layout copies around batched attention, between token-major activations
 * [B, T, P, NH, HS] (a Linear layer's [B*T, P*C] output: P = 3 for packed q, k, v, P = 1 for C)
 * and head-major [P, B, NH, T, HS] (what the batched matmuls need). Each head's HS floats are
 * contiguous on both sides, so a copy is B*T*P*NH block moves. It computes nothing.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Permuting copies [B, T, P, NH, HS] to and from [P, B, NH, T, HS]. */
public final class HeadsKernel {

  /** Tokens per chunk of work. */
  static final int CHUNK = 16;

  private HeadsKernel() {
  }

  /**
   * {@code heads[p, b, h, t, :] = tokens[b * T + t, (p * NH + h) * HS ...]}.
   *
   * @param heads  [P, B, NH, T, HS] overwritten
   * @param tokens [B*T, P*NH*HS]
   */
  public static void toHeads(INDArray heads, INDArray tokens, int batch, int seqLen, int parts, int nh) {
    copy(heads, tokens, batch, seqLen, parts, nh, true, null);
  }

  /**
   * {@link #toHeads} of each sample's first {@code lengths[b]} positions only (attention over
   * per-sample lengths reads no other); the heads' later positions are left as they were.
   *
   * @param lengths B lengths in [1, T]; null for all T positions
   */
  public static void toHeads(INDArray heads, INDArray tokens, int batch, int seqLen, int parts, int nh,
      int[] lengths) {
    copy(heads, tokens, batch, seqLen, parts, nh, true, lengths);
  }

  /**
   * {@code tokens[b * T + t, (p * NH + h) * HS ...] = heads[p, b, h, t, :]}.
   *
   * @param tokens [B*T, P*NH*HS] overwritten
   * @param heads  [P, B, NH, T, HS]
   */
  public static void fromHeads(INDArray tokens, INDArray heads, int batch, int seqLen, int parts, int nh) {
    copy(tokens, heads, batch, seqLen, parts, nh, false, null);
  }

  private static void copy(INDArray dst, INDArray src, int batch, int seqLen, int parts, int nh, boolean toHeads,
      int[] lengths) {
    int hs = (int) (dst.length() / ((long) batch * seqLen * parts * nh));
    int bytes = hs * 4;
    ByteBuffer d = Fused.floats(dst);
    ByteBuffer s = Fused.floats(src);
    Parallel.forChunks(batch * seqLen, CHUNK, (from, to) -> {
      for (int token = from; token < to; token++) {
        int b = token / seqLen;
        int t = token % seqLen;
        if (lengths != null && t >= lengths[b]) {
          continue;
        }
        for (int p = 0; p < parts; p++) {
          for (int h = 0; h < nh; h++) {
            int tokenAt = ((token * parts + p) * nh + h) * bytes;
            int headAt = ((((p * batch + b) * nh + h) * seqLen) + t) * bytes;
            if (toHeads) {
              d.put(headAt, s, tokenAt, bytes);
            } else {
              d.put(tokenAt, s, headAt, bytes);
            }
          }
        }
      }
    });
  }
}
