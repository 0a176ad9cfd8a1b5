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
 * <p>Forward runs each chunk's head gemm and softmax and adds up its losses; only the last chunk's
 * probabilities stay. Backward walks the chunks from the last to the first: it recomputes each
 * chunk's logits and softmax (the last chunk's are still there), turns them into the logits'
 * gradient in place, and runs the head's two backward gemms on the chunk's rows. So a step with C
 * chunks computes the head's forward gemm {@code 2 - 1/C} times. Each row's arithmetic is the
 * unchunked head's, but BLAS chooses its kernels by the matrix shape (a gemm over 7 rows may round
 * differently than one over 4096), and {@code dwte}, a sum over rows, is added up chunk by chunk: so
 * loss and gradients equal the unchunked ones within float rounding (ChunkedLmHeadTest: 4e-6 of
 * the largest gradient in float32, 1e-12 in float64), not bit for bit. With one chunk (R at least B*T) every operation is the
 * unchunked head's, bit for bit.
 */
final class ChunkedLmHead {

  private final INDArray logits; // [R, V] logits, then their gradient
  private final INDArray probs; // [R, V]
  private final int chunkRows; // R
  private final long rows; // B*T
  private int residentChunk = -1; // the chunk whose probabilities forward left in probs; -1 if none
  private SoftTargets soft; // the distillation term beside the cross-entropy; null for none

  /**
   * @param logits [R, V] scratch for a chunk's logits and their gradient
   * @param probs  [R, V] scratch for a chunk's probabilities
   * @param rows   B*T, the positions of a batch
   */
  ChunkedLmHead(INDArray logits, INDArray probs, long rows) {
    this.logits = logits;
    this.probs = probs;
    this.chunkRows = (int) logits.size(0);
    this.rows = rows;
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
        TiedLmHead.forward(logits, lnf, wte);
        residentChunk = 0;
      }
      return Double.NaN;
    }
    double sum = 0;
    for (int k = 0; k < chunks(); k++) {
      int from = k * chunkRows;
      int n = rowsOf(k);
      INDArray l = prefix(logits, n);
      TiedLmHead.forward(l, rowsView(lnf, from, n), wte);
      int[] t = slice(targets, from, n);
      double ce = SoftmaxCrossEntropy.forwardSum(prefix(probs, n), l, t, ignoreIndex);
      sum += soft == null ? ce : soft.mix(ce, l, from, n, t, ignoreIndex);
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
   * @param dwte [V, C] accumulated
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
      int from = k * chunkRows;
      int n = rowsOf(k);
      INDArray inp = rowsView(lnf, from, n);
      INDArray l = prefix(logits, n);
      INDArray p = prefix(probs, n);
      int[] t = slice(targets, from, n);
      if (k != residentChunk) {
        TiedLmHead.forward(l, inp, wte);
        SoftmaxCrossEntropy.forwardSum(p, l, t, ignoreIndex);
      }
      if (soft == null) {
        SoftmaxCrossEntropy.backwardScaled(l, p, t, ignoreIndex, scale); // l now holds dlogits
      } else {
        soft.prepareGradient(l, from, n, t, ignoreIndex, scale); // reads the logits before they turn into dlogits
        SoftmaxCrossEntropy.backwardScaled(l, p, t, ignoreIndex, soft.hardWeight() * scale);
        soft.addGradient(l, n);
      }
      TiedLmHead.backward(rowsView(dlnf, from, n), dwte, l, inp, wte);
    }
    residentChunk = -1;
  }

  private int rowsOf(int chunk) {
    return (int) Math.min(chunkRows, rows - (long) chunk * chunkRows);
  }

  /** The first {@code n} rows of an [R, V] chunk array (the array itself when n = R). */
  private static INDArray prefix(INDArray chunk, int n) {
    return n == chunk.size(0) ? chunk : chunk.get(NDArrayIndex.interval(0, n), NDArrayIndex.all());
  }

  /** Rows [from, from + n) of a [B*T, C] array (the array itself when they are all of it). */
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
