/*
 * EmbeddingKernel: the token + position embedding lookup and the token embedding's gradient as
 * plain loops over the off-heap buffers, in place of libnd4j's gather, broadcast add and
 * scatter_add ops (three op dispatches and a view per step, and the serial scatter_add's own
 * overhead), for padded [B*T, C] or packed [R, C] rows. It is not the padded layout's position
 * embedding gradient (a column sum, ColumnSumKernel).
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code out[b*T + t] = wte[tokens[b*T + t]] + wpe[pos0 + t]} and {@code dwte[tokens[i]] += dout[i]}.
 *
 * <p>The sums are the ones the ND4J ops compute: one float add per output element forward, and
 * backward the rows of {@code dout} added into their token's row in row order (as scatter_add with
 * its lock flag does), so repeated tokens sum in the same order and to the same bits.
 */
public final class EmbeddingKernel {

  /** Rows per chunk of work. */
  static final int CHUNK = 32;

  private EmbeddingKernel() {
  }

  /** Whether the kernel applies: float32 tables and activations accepted by {@link Fused#accepts}, int32 tokens. */
  public static boolean accepts(INDArray out, INDArray tokens, INDArray wte, INDArray wpe) {
    return tokens.dataType() == DataType.INT32 && Fused.denseRowMajor(tokens) && Fused.accepts(out, wte, wpe);
  }

  /**
   * Forward lookup.
   *
   * @param out    [B*T, C] overwritten
   * @param tokens [B*T] int32 ids in [0, V)
   * @param wte    [V, C]
   * @param wpe    [maxT, C], rows pos0 .. pos0 + T - 1 used
   */
  public static void forward(INDArray out, INDArray tokens, INDArray wte, INDArray wpe, int seqLen, int pos0) {
    int rows = (int) tokens.length();
    int c = (int) wte.size(1);
    int vocab = (int) wte.size(0);
    ByteBuffer ids = Fused.elements(tokens);
    ByteBuffer o = Fused.floats(out);
    ByteBuffer te = Fused.floats(wte);
    ByteBuffer pe = Fused.floats(wpe);
    Parallel.forChunks(rows, CHUNK, (from, to) -> {
      for (int row = from; row < to; row++) {
        addRows(o, row * c, te, token(ids, row, vocab) * c, pe, (pos0 + row % seqLen) * c, c);
      }
    });
  }

  /**
   * Forward lookup on packed rows (org.ringtrain.ops.transformer.PackedRows): row {@code i} of
   * sample b is position {@code i - offsets[b]}; rows past offsets[B] (slack) get position 0.
   *
   * @param out     [R, C] overwritten
   * @param tokens  [R] int32 ids in [0, V)
   * @param wte     [V, C]
   * @param wpe     [maxT, C]
   * @param offsets B+1 row starts
   */
  public static void forwardPacked(INDArray out, INDArray tokens, INDArray wte, INDArray wpe, int[] offsets) {
    int rows = (int) tokens.length();
    int c = (int) wte.size(1);
    int vocab = (int) wte.size(0);
    int batch = offsets.length - 1;
    ByteBuffer ids = Fused.elements(tokens);
    ByteBuffer o = Fused.floats(out);
    ByteBuffer te = Fused.floats(wte);
    ByteBuffer pe = Fused.floats(wpe);
    Parallel.forChunks(rows, CHUNK, (from, to) -> {
      int b = 0;
      for (int row = from; row < to; row++) {
        while (b < batch && offsets[b + 1] <= row) {
          b++;
        }
        int position = b == batch ? 0 : row - offsets[b];
        addRows(o, row * c, te, token(ids, row, vocab) * c, pe, position * c, c);
      }
    });
  }

  /**
   * The position embedding's gradient on packed rows: {@code dwpe[t] += sum_b dout[offsets[b] + t]}
   * over the samples b longer than t, in sample order (slack rows are not read).
   *
   * @param dwpe    [maxT, C] accumulated
   * @param dout    [R, C]
   * @param offsets B+1 row starts
   */
  public static void positionsAddPacked(INDArray dwpe, INDArray dout, int[] offsets) {
    int c = (int) dwpe.size(1);
    int batch = offsets.length - 1;
    int longest = 0;
    for (int b = 0; b < batch; b++) {
      longest = Math.max(longest, offsets[b + 1] - offsets[b]);
    }
    ByteBuffer d = Fused.floats(dwpe);
    ByteBuffer g = Fused.floats(dout);
    Parallel.forChunks(longest, 1, (from, to) -> {
      for (int t = from; t < to; t++) {
        for (int b = 0; b < batch; b++) {
          if (t < offsets[b + 1] - offsets[b]) {
            addRows(d, t * c, d, t * c, g, (offsets[b] + t) * c, c);
          }
        }
      }
    });
  }

  /** {@code o[outAt..+c) = a[aAt..+c) + b[bAt..+c)} (float element indices; o may be a). */
  private static void addRows(ByteBuffer o, int outAt, ByteBuffer a, int aAt, ByteBuffer b, int bAt, int c) {
    int bound = Lanes.bound(c);
    int j = 0;
    for (; j < bound; j += Lanes.N) {
      Lanes.store(Lanes.load(a, aAt + j).add(Lanes.load(b, bAt + j)), o, outAt + j);
    }
    for (; j < c; j++) {
      o.putFloat((outAt + j) * 4, a.getFloat((aAt + j) * 4) + b.getFloat((bAt + j) * 4));
    }
  }

  /**
   * {@code dwte[tokens[i], :] += dout[i, :]} for every row i, in row order, in one thread (rows of
   * one token must add up in order).
   *
   * @param dwte   [V, C] accumulated
   * @param dout   [B*T, C]
   * @param tokens [B*T] int32 ids in [0, V)
   */
  public static void scatterAdd(INDArray dwte, INDArray dout, INDArray tokens) {
    int rows = (int) tokens.length();
    int c = (int) dwte.size(1);
    int vocab = (int) dwte.size(0);
    ByteBuffer ids = Fused.elements(tokens);
    ByteBuffer d = Fused.floats(dwte);
    ByteBuffer g = Fused.floats(dout);
    for (int row = 0; row < rows; row++) {
      int tokenAt = token(ids, row, vocab) * c;
      addRows(d, tokenAt, d, tokenAt, g, row * c, c);
    }
  }

  private static int token(ByteBuffer ids, int row, int vocab) {
    int id = ids.getInt(row * 4);
    if (id < 0 || id >= vocab) {
      throw new IllegalArgumentException("expected token ids in [0, " + vocab + "), but found " + id + " at row " + row
          + "; check the tokenizer's vocabulary size against the model's");
    }
    return id;
  }
}
