/*
 * EmbeddingKernel: the token + position embedding lookup and the token embedding's gradient as
 * plain loops over the off-heap buffers, in place of libnd4j's gather, broadcast add and
 * scatter_add ops (three op dispatches and a view per step, and the serial scatter_add's own
 * overhead). It is not the position embedding's gradient (a column sum, ColumnSumKernel).
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
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
      int bound = Lanes.bound(c);
      for (int row = from; row < to; row++) {
        int tokenAt = token(ids, row, vocab) * c;
        int posAt = (pos0 + row % seqLen) * c;
        int outAt = row * c;
        int j = 0;
        for (; j < bound; j += Lanes.N) {
          Lanes.store(Lanes.load(te, tokenAt + j).add(Lanes.load(pe, posAt + j)), o, outAt + j);
        }
        for (; j < c; j++) {
          o.putFloat((outAt + j) * 4, te.getFloat((tokenAt + j) * 4) + pe.getFloat((posAt + j) * 4));
        }
      }
    });
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
    int bound = Lanes.bound(c);
    for (int row = 0; row < rows; row++) {
      int tokenAt = token(ids, row, vocab) * c;
      int rowAt = row * c;
      int j = 0;
      for (; j < bound; j += Lanes.N) {
        FloatVector sum = Lanes.load(d, tokenAt + j).add(Lanes.load(g, rowAt + j));
        Lanes.store(sum, d, tokenAt + j);
      }
      for (; j < c; j++) {
        d.putFloat((tokenAt + j) * 4, d.getFloat((tokenAt + j) * 4) + g.getFloat((rowAt + j) * 4));
      }
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
