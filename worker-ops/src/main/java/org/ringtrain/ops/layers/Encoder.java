/*
 * Encoder: token embedding plus learned positional embedding, GPT-2's input layer. In float32 the
 * lookup and the token table's gradient are plain loops (EmbeddingKernel, which refuses an id
 * outside the table because it reads native memory); otherwise libnd4j's gather and scatter_add.
 * The model validates ids once, where they enter. Rows are padded [B*T, C] (the GPT) or packed
 * [R, C] (PackedRows, the Transformer classifier). It has no dropout.
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.kernels.EmbeddingKernel;

/** {@code out[b, t, :] = wte[tokens[b, t], :] + wpe[pos0 + t, :]}. */
public final class Encoder {

  private Encoder() {
  }

  /**
   * Forward pass.
   *
   * @param out    [B*T, C] output
   * @param tokens [B*T] int32 token ids, each in [0, V)
   * @param wte    [V, C] token embedding
   * @param wpe    [maxT, C] position embedding
   * @param batch  B
   * @param seqLen T
   * @param pos0   position of the first token (0 in training, the cache length when decoding)
   */
  public static void forward(INDArray out, INDArray tokens, INDArray wte, INDArray wpe,
      int batch, int seqLen, int pos0) {
    if (EmbeddingKernel.accepts(out, tokens, wte, wpe) && tokens.length() == (long) batch * seqLen) {
      EmbeddingKernel.forward(out, tokens, wte, wpe, seqLen, pos0);
      return;
    }
    long c = wte.size(1);
    Nd4j.exec(DynamicCustomOp.builder("gather")
        .addInputs(wte, tokens)
        .addOutputs(out)
        .addIntegerArguments(0)
        .build());
    INDArray out3 = out.reshape(batch, seqLen, c); // [B, T, C]
    INDArray pos = wpe.get(NDArrayIndex.interval(pos0, pos0 + seqLen), NDArrayIndex.all()); // [T, C]
    Kernels.broadcastAdd(out3, out3, pos);
  }

  /**
   * Backward pass: accumulates into {@code dwte} (rows of the tokens seen) and {@code dwpe}
   * (rows 0..T-1).
   *
   * @param dwte   [V, C] gradient of the token embedding, accumulated
   * @param dwpe   [maxT, C] gradient of the position embedding, accumulated
   * @param dout   [B*T, C] gradient of the output
   * @param tokens [B*T] int32 token ids
   * @param ones   [1, >= B] all ones
   * @param batch  B
   * @param seqLen T
   */
  public static void backward(INDArray dwte, INDArray dwpe, INDArray dout, INDArray tokens, INDArray ones,
      int batch, int seqLen) {
    long c = dwte.size(1);
    if (EmbeddingKernel.accepts(dout, tokens, dwte, dwpe) && tokens.length() == (long) batch * seqLen) {
      EmbeddingKernel.scatterAdd(dwte, dout, tokens);
    } else {
      scatterAddNd4j(dwte, dout, tokens);
    }
    // dwpe[t, :] += sum_b dout[b, t, :]: column sums of dout seen as [B, T*C].
    INDArray dpos = dwpe.get(NDArrayIndex.interval(0, seqLen), NDArrayIndex.all()); // [T, C]
    Kernels.addColumnSums(dpos.reshape(1, seqLen * c), dout.reshape(batch, seqLen * c), ones, 1.0);
  }

  /**
   * Forward pass on packed rows ({@link PackedRows}): row {@code i} of sample b is the token at
   * position {@code i - rows.offset(b)}; slack rows get position 0.
   *
   * @param out    [R, C] output
   * @param tokens [R] int32 token ids, each in [0, V) (slack rows: any valid id)
   * @param wte    [V, C] token embedding
   * @param wpe    [maxT, C] position embedding
   * @param rows   the packing
   */
  public static void forwardPacked(INDArray out, INDArray tokens, INDArray wte, INDArray wpe, PackedRows rows) {
    if (EmbeddingKernel.accepts(out, tokens, wte, wpe)) {
      EmbeddingKernel.forwardPacked(out, tokens, wte, wpe, rows.offsets());
      return;
    }
    Nd4j.exec(DynamicCustomOp.builder("gather")
        .addInputs(wte, tokens)
        .addOutputs(out)
        .addIntegerArguments(0)
        .build());
    for (int b = 0; b < rows.batch(); b++) {
      rowBlock(out, rows.offset(b), rows.length(b)).addi(rowBlock(wpe, 0, rows.length(b)));
    }
    if (rows.rows() > rows.tokens()) {
      INDArray slack = rowBlock(out, rows.tokens(), rows.rows() - rows.tokens());
      Kernels.broadcastAdd(slack, slack, wpe.get(NDArrayIndex.interval(0, 1), NDArrayIndex.all()));
    }
  }

  /**
   * Backward of {@link #forwardPacked}: accumulates into {@code dwte} and rows 0..T'-1 of
   * {@code dwpe}; slack rows (whose gradient is 0) reach neither.
   */
  public static void backwardPacked(INDArray dwte, INDArray dwpe, INDArray dout, INDArray tokens, PackedRows rows) {
    if (EmbeddingKernel.accepts(dout, tokens, dwte, dwpe)) {
      EmbeddingKernel.scatterAdd(dwte, dout, tokens);
      EmbeddingKernel.positionsAddPacked(dwpe, dout, rows.offsets());
      return;
    }
    scatterAddNd4j(dwte, dout, tokens);
    for (int b = 0; b < rows.batch(); b++) {
      rowBlock(dwpe, 0, rows.length(b)).addi(rowBlock(dout, rows.offset(b), rows.length(b)));
    }
  }

  /** Rows {@code from .. from + count - 1} of a [rows, C] array. */
  private static INDArray rowBlock(INDArray a, long from, long count) {
    return a.get(NDArrayIndex.interval(from, from + count), NDArrayIndex.all());
  }

  private static void scatterAddNd4j(INDArray dwte, INDArray dout, INDArray tokens) {
    // scatter_add with its "lock" flag set runs serially: repeated tokens add up deterministically.
    Nd4j.exec(DynamicCustomOp.builder("scatter_add")
        .addInputs(dwte, tokens, dout)
        .addOutputs(dwte)
        .addBooleanArguments(true, false)
        .build());
  }
}
