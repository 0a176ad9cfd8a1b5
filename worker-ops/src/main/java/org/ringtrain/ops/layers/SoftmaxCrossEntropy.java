/*
 * SoftmaxCrossEntropy: the language-model loss, softmax over the vocabulary followed by the
 * negative log-likelihood of the targets, averaged over the tokens whose target is not the ignore
 * index. In float32 forward and backward are one fused pass per row each
 * (org.ringtrain.ops.kernels.CrossEntropyKernel). It is not the LM head (see TiedLmHead) and does
 * no label smoothing.
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.LogSoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.kernels.CrossEntropyKernel;
import org.ringtrain.ops.kernels.Fused;

/** {@code loss = -mean over kept rows i of log softmax(logits[i])[targets[i]]}. */
public final class SoftmaxCrossEntropy {

  /** The default ignore index, as in PyTorch's F.cross_entropy(ignore_index=-1) used by nanoGPT. */
  public static final int DEFAULT_IGNORE_INDEX = -1;

  private SoftmaxCrossEntropy() {
  }

  /**
   * Forward pass: fills {@code probs} with softmax(logits) and returns the mean loss, or 0 when every
   * target is ignored. Targets must be in [0, V) or equal to the ignore index (not checked here).
   *
   * @param probs       [N, V] output: probabilities, saved for backward
   * @param logits      [N, V]
   * @param targets     N target ids
   * @param ignoreIndex target value that contributes nothing
   */
  public static double forward(INDArray probs, INDArray logits, int[] targets, int ignoreIndex) {
    int kept = countKept(targets, ignoreIndex);
    double sum = forwardSum(probs, logits, targets, ignoreIndex);
    return kept == 0 ? 0.0 : sum / kept;
  }

  /**
   * As {@link #forward}, but returns the sum of the per-row losses over the kept rows (added in row
   * order) instead of their mean: the part of the loss one chunk of rows contributes when a model
   * computes the head in chunks (the caller divides the total by the kept rows of the whole batch).
   */
  public static double forwardSum(INDArray probs, INDArray logits, int[] targets, int ignoreIndex) {
    if (Fused.accepts(probs, logits)) {
      return CrossEntropyKernel.forward(probs, logits, targets, ignoreIndex);
    }
    return forwardNd4jSum(probs, logits, targets, ignoreIndex);
  }

  /**
   * {@link #forward} as ND4J ops (log-softmax, then exp): the float64 path, and the reference and
   * baseline of the fused kernel.
   */
  public static double forwardNd4j(INDArray probs, INDArray logits, int[] targets, int ignoreIndex) {
    int kept = countKept(targets, ignoreIndex);
    double sum = forwardNd4jSum(probs, logits, targets, ignoreIndex);
    return kept == 0 ? 0.0 : sum / kept;
  }

  private static double forwardNd4jSum(INDArray probs, INDArray logits, int[] targets, int ignoreIndex) {
    long v = logits.size(1);
    Nd4j.exec(new LogSoftMax(logits, probs));
    DataBuffer logp = probs.data();
    long base = Kernels.bufferIndex(probs);
    double sum = 0;
    for (int i = 0; i < targets.length; i++) {
      int target = targets[i];
      if (target != ignoreIndex) {
        sum -= logp.getDouble(base + i * v + target);
      }
    }
    Nd4j.exec(new Exp(probs, probs));
    return sum;
  }

  /** Number of targets that are not the ignore index: the denominator of the mean. */
  public static int countKept(int[] targets, int ignoreIndex) {
    int kept = 0;
    for (int target : targets) {
      if (target != ignoreIndex) {
        kept++;
      }
    }
    return kept;
  }

  /**
   * Backward pass for {@code dloss * loss}; overwrites
   * {@code dlogits[i] = dloss * (probs[i] - onehot(targets[i])) / kept} for kept rows and 0 for
   * ignored rows.
   *
   * @param dlogits     [N, V] overwritten
   * @param probs       [N, V] from forward
   * @param targets     N target ids
   * @param ignoreIndex target value that contributes nothing
   * @param dloss       gradient of the final objective with respect to the mean loss (1 for plain training)
   */
  public static void backward(INDArray dlogits, INDArray probs, int[] targets, int ignoreIndex, double dloss) {
    int kept = countKept(targets, ignoreIndex);
    if (kept == 0) {
      dlogits.assign(0);
      return;
    }
    backwardScaled(dlogits, probs, targets, ignoreIndex, dloss / kept);
  }

  /**
   * As {@link #backward}, with the factor {@code scale = dloss / kept} given: overwrites
   * {@code dlogits[i] = scale * (probs[i] - onehot(targets[i]))} for kept rows and 0 for ignored
   * rows. A model that computes the head in chunks of rows passes the scale of the whole batch.
   *
   * @param scale d(objective)/d(mean loss) divided by the number of kept rows of the whole batch
   */
  public static void backwardScaled(INDArray dlogits, INDArray probs, int[] targets, int ignoreIndex,
      double scale) {
    if (Fused.accepts(dlogits, probs)) {
      CrossEntropyKernel.backward(dlogits, probs, targets, ignoreIndex, (float) scale);
      return;
    }
    backwardNd4jScaled(dlogits, probs, targets, ignoreIndex, scale);
  }

  /**
   * {@link #backward} as an ND4J multiply and a Java loop over the targets: the float64 path, and
   * the reference and baseline of the fused kernel.
   */
  public static void backwardNd4j(INDArray dlogits, INDArray probs, int[] targets, int ignoreIndex, double dloss) {
    int kept = countKept(targets, ignoreIndex);
    if (kept == 0) {
      dlogits.assign(0);
      return;
    }
    backwardNd4jScaled(dlogits, probs, targets, ignoreIndex, dloss / kept);
  }

  private static void backwardNd4jScaled(INDArray dlogits, INDArray probs, int[] targets, int ignoreIndex,
      double scale) {
    long v = probs.size(1);
    probs.mul(scale, dlogits);
    DataBuffer d = dlogits.data();
    long dBase = Kernels.bufferIndex(dlogits);
    for (int i = 0; i < targets.length; i++) {
      long dRow = dBase + i * v;
      int target = targets[i];
      if (target != ignoreIndex) {
        d.put(dRow + target, d.getDouble(dRow + target) - scale);
      } else {
        // An ignored row gets no gradient; such rows are rare (padding), so a plain loop is fine.
        for (long j = 0; j < v; j++) {
          d.put(dRow + j, 0.0);
        }
      }
    }
  }
}
