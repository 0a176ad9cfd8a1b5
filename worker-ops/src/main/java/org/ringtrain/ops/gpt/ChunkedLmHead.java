/*
 * ChunkedLmHead: the GPT's tied LM head and its cross-entropy loss, computed over the B*T positions
 * in chunks of R rows, so that the logits need 2 R V floats instead of B T V (at V 50257, B 4 and
 * T 1024 the unchunked logits, probabilities and their gradient would be 2.3 GiB). It holds two
 * [R, V] views carved by GptActivations and computes with TiedLmHead and SoftmaxCrossEntropy; it
 * allocates nothing, owns no parameter and is not the trunk.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.layers.SoftmaxCrossEntropy;
import org.ringtrain.ops.layers.TiedLmHead;

/**
 * {@code loss = mean over kept rows of CE(lnf @ wte^T, targets)}, chunk by chunk; with
 * {@link SoftTargets} (knowledge distillation) each row's loss is {@code (1 - alpha) CE + alpha tau^2 KL}
 * instead, the KL term computed by {@link org.ringtrain.ops.layers.SoftTargetKl} on the same chunk.
 *
 * <p>The unit of arithmetic is a tile of {@link GptModel#HEAD_TILE_ROWS} rows (the batch's last
 * tile may be shorter), and a chunk is a whole number of tiles. Every gemm, every cross-entropy
 * call and every addition to the loss or to {@code dwte} is made per tile, in the same order
 * whatever the chunk: forward walks the tiles from the first to the last and adds each tile's
 * loss to one running sum; backward walks them from the last to the first and adds each tile's
 * {@code dlogits^T @ lnf} to {@code dwte}. So loss and gradients are the same bit for bit for
 * every chunk size, the one chunk covering B*T included (ChunkedLmHeadTest). Why not one gemm per
 * chunk: BLAS rounds a row by its place in the kernel's register tile, which depends on where the
 * gemm starts, and a gemm over a chunk sums dwte's rows in another order than one over the batch.
 *
 * <p>Forward keeps only the last chunk's probabilities. Backward recomputes each other chunk's
 * logits and softmax (the same calls, so the same bits), turns them into the logits' gradient in
 * place and runs the head's two backward gemms. A step with C chunks computes the head's forward
 * gemm {@code 2 - 1/C} times.
 */
final class ChunkedLmHead {

  private final INDArray logits; // [R, V] logits, then their gradient
  private final INDArray probs; // [R, V]
  private final int chunkRows; // R, a multiple of tileRows or B*T
  private final int tileRows; // G
  private final long rows; // B*T
  private int residentChunk = -1; // the chunk whose probabilities forward left in probs; -1 if none
  private SoftTargets soft; // the distillation term beside the cross-entropy; null for none

  /**
   * @param logits   [R, V] scratch for a chunk's logits and their gradient
   * @param probs    [R, V] scratch for a chunk's probabilities
   * @param rows     B*T, the positions of a batch
   * @param tileRows G, the rows of each gemm; R is a multiple of G or B*T
   */
  ChunkedLmHead(INDArray logits, INDArray probs, long rows, int tileRows) {
    this.logits = logits;
    this.probs = probs;
    this.chunkRows = (int) logits.size(0);
    this.tileRows = tileRows;
    this.rows = rows;
    if (chunkRows % tileRows != 0 && chunkRows != rows) {
      throw new IllegalArgumentException("head chunk of " + chunkRows + " rows: expected a multiple of the "
          + tileRows + "-row tile or all " + rows + " rows; GptModel.setHeadChunkRows checks this");
    }
  }

  /** Rows R per chunk. */
  int chunkRows() {
    return chunkRows;
  }

  /** Number of chunks of a batch. */
  int chunks() {
    return (int) ((rows + chunkRows - 1) / chunkRows);
  }

  /** The soft targets the next forward and its backward mix into the loss (see {@link SoftTargets}); null for none. */
  void softTargets(SoftTargets targets) {
    this.soft = targets;
  }

  /** The [B*T, V] logits of the last forward, when one chunk holds them all and backward has not run; else null. */
  INDArray allLogits() {
    return chunks() == 1 && residentChunk == 0 ? logits : null;
  }

  /**
   * Forward: returns the mean loss over the rows whose target is not {@code ignoreIndex} (0 when
   * there is none). Without targets it computes the logits only when one chunk holds them all
   * (for {@link GptModel#logits()}), and returns NaN.
   *
   * @param lnf     [B*T, C] the trunk's output
   * @param wte     [V, C]
   * @param targets B*T target ids, or null
   */
  double forward(INDArray lnf, INDArray wte, int[] targets, int ignoreIndex) {
    residentChunk = -1;
    if (targets == null) {
      if (chunks() == 1) {
        chunkForward(0, lnf, wte, null, ignoreIndex, 0, false);
        residentChunk = 0;
      }
      return Double.NaN;
    }
    double sum = 0;
    for (int k = 0; k < chunks(); k++) {
      sum = chunkForward(k, lnf, wte, targets, ignoreIndex, sum, true);
    }
    residentChunk = chunks() - 1;
    int kept = SoftmaxCrossEntropy.countKept(targets, ignoreIndex);
    return kept == 0 ? 0.0 : sum / kept;
  }

  /**
   * Backward of the last forward (which must have had {@code targets}): overwrites {@code dlnf},
   * accumulates into {@code dwte}.
   *
   * @param dlnf [B*T, C] overwritten with d(loss)/d(lnf)
   * @param dwte [V, C] accumulated, or null when wte is frozen
   */
  void backward(INDArray dlnf, INDArray dwte, INDArray lnf, INDArray wte, int[] targets, int ignoreIndex) {
    int kept = SoftmaxCrossEntropy.countKept(targets, ignoreIndex);
    if (kept == 0) {
      dlnf.assign(0); // no row counts: the head passes no gradient
      residentChunk = -1;
      return;
    }
    double scale = 1.0 / kept;
    for (int k = chunks() - 1; k >= 0; k--) {
      if (k != residentChunk) {
        chunkForward(k, lnf, wte, targets, ignoreIndex, 0, false);
      }
      int from = k * chunkRows;
      int n = rowsOf(k);
      for (int tile = (n - 1) / tileRows; tile >= 0; tile--) {
        int at = tile * tileRows; // the tile's first row within the chunk
        int g = Math.min(tileRows, n - at);
        INDArray l = rowsView(logits, at, g);
        int[] t = slice(targets, from + at, g);
        if (soft == null) {
          SoftmaxCrossEntropy.backwardScaled(l, rowsView(probs, at, g), t, ignoreIndex, scale); // l holds dlogits
        } else {
          soft.prepareGradient(l, from + at, g, t, ignoreIndex, scale); // reads the logits before they turn into dlogits
          SoftmaxCrossEntropy.backwardScaled(l, rowsView(probs, at, g), t, ignoreIndex, soft.hardWeight() * scale);
          soft.addGradient(l, g);
        }
        TiedLmHead.backward(rowsView(dlnf, from + at, g), dwte, l, rowsView(lnf, from + at, g), wte);
      }
    }
    residentChunk = -1;
  }

  /**
   * Logits and (with targets) probabilities of chunk {@code k}, tile by tile; returns {@code sum}
   * plus the tiles' losses, added one tile at a time.
   */
  private double chunkForward(int k, INDArray lnf, INDArray wte, int[] targets, int ignoreIndex, double sum,
      boolean withLoss) {
    int from = k * chunkRows;
    int n = rowsOf(k);
    for (int at = 0; at < n; at += tileRows) {
      int g = Math.min(tileRows, n - at);
      INDArray l = rowsView(logits, at, g);
      TiedLmHead.forward(l, rowsView(lnf, from + at, g), wte);
      if (targets != null) {
        int[] t = slice(targets, from + at, g);
        double ce = SoftmaxCrossEntropy.forwardSum(rowsView(probs, at, g), l, t, ignoreIndex);
        sum += soft == null || !withLoss ? ce : soft.mix(ce, l, from + at, g, t, ignoreIndex);
      }
    }
    return sum;
  }

  private int rowsOf(int chunk) {
    return (int) Math.min(chunkRows, rows - (long) chunk * chunkRows);
  }

  /** Rows [from, from + n) of a 2-D array (the array itself when they are all of it). */
  private static INDArray rowsView(INDArray a, int from, int n) {
    return from == 0 && n == a.size(0) ? a : a.get(NDArrayIndex.interval(from, from + n), NDArrayIndex.all());
  }

  private static int[] slice(int[] targets, int from, int n) {
    if (from == 0 && n == targets.length) {
      return targets;
    }
    int[] t = new int[n];
    System.arraycopy(targets, from, t, 0, n);
    return t;
  }
}
