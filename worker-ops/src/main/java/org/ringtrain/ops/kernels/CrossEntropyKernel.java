/*
 * CrossEntropyKernel: the language-model loss in float32: forward, softmax of each row of logits
 * and the negative log-likelihood of its target in one pass over the row; backward, the logits'
 * gradient in one pass. The mean and the ignore index are SoftmaxCrossEntropy's
 * (org.ringtrain.ops.layers), which also holds the float64 path; this class is only the fast
 * float loops.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code probs[i] = softmax(logits[i])} and {@code -log probs[i][targets[i]]}, computed as
 * {@code log(sum_j exp(l_j - max)) - (l_t - max)} so that it stays finite however small the
 * target's probability is.
 */
public final class CrossEntropyKernel {

  /** Rows per chunk of work. */
  static final int CHUNK = 8;

  private CrossEntropyKernel() {
  }

  /**
   * Fills {@code probs} and returns the sum of the per-row losses over the rows whose target is
   * not {@code ignoreIndex}, added in row order.
   *
   * @param probs       [N, V] overwritten with softmax(logits)
   * @param logits      [N, V]
   * @param targets     N target ids in [0, V) or equal to ignoreIndex
   * @param ignoreIndex target value that contributes nothing
   */
  public static double forward(INDArray probs, INDArray logits, int[] targets, int ignoreIndex) {
    int n = (int) logits.size(0);
    int v = (int) logits.size(1);
    FloatBuffer p = Fused.floats(probs).asFloatBuffer();
    FloatBuffer l = Fused.floats(logits).asFloatBuffer();
    // One loss per row, written by whichever thread runs the row and added up by the caller after
    // forChunks returns (which waits for every chunk); chunk bodies use only Scratch slot 0.
    float[] rowLoss = Scratch.floats(1, n);
    Parallel.forChunks(n, CHUNK, (from, to) -> {
      float[] row = Scratch.floats(0, v);
      for (int i = from; i < to; i++) {
        l.get(i * v, row, 0, v);
        float logTarget = softmaxRow(row, v, targets[i] == ignoreIndex ? -1 : targets[i]);
        p.put(i * v, row, 0, v);
        rowLoss[i] = -logTarget;
      }
    });
    double sum = 0;
    for (int i = 0; i < n; i++) {
      if (targets[i] != ignoreIndex) {
        sum += rowLoss[i];
      }
    }
    return sum;
  }

  /**
   * Backward: {@code dlogits[i] = scale * (probs[i] - onehot(targets[i]))} for kept rows and 0 for
   * rows whose target is {@code ignoreIndex}.
   *
   * @param dlogits     [N, V] overwritten
   * @param probs       [N, V] from forward
   * @param targets     N target ids
   * @param ignoreIndex target value that contributes nothing
   * @param scale       d(objective)/d(mean loss) divided by the number of kept rows
   */
  public static void backward(INDArray dlogits, INDArray probs, int[] targets, int ignoreIndex, float scale) {
    int n = (int) probs.size(0);
    int v = (int) probs.size(1);
    ByteBuffer d = Fused.floats(dlogits);
    ByteBuffer p = Fused.floats(probs);
    Parallel.forChunks(n, CHUNK, (from, to) -> {
      int bound = Lanes.bound(v);
      for (int row = from; row < to; row++) {
        int base = row * v;
        if (targets[row] == ignoreIndex) {
          for (int j = 0; j < v; j++) {
            d.putFloat((base + j) * 4, 0f);
          }
          continue;
        }
        int j = 0;
        for (; j < bound; j += Lanes.N) {
          Lanes.store(Lanes.load(p, base + j).mul(scale), d, base + j);
        }
        for (; j < v; j++) {
          d.putFloat((base + j) * 4, p.getFloat((base + j) * 4) * scale);
        }
        int t = (base + targets[row]) * 4;
        d.putFloat(t, d.getFloat(t) - scale);
      }
    });
  }

  /** Replaces {@code a[0 .. v)} by its softmax; returns log softmax at {@code target} (0 if target is -1). */
  private static float softmaxRow(float[] a, int v, int target) {
    int bound = Lanes.bound(v);
    FloatVector maxV = FloatVector.broadcast(Lanes.FLOATS, Float.NEGATIVE_INFINITY);
    int i = 0;
    for (; i < bound; i += Lanes.N) {
      maxV = maxV.max(Lanes.load(a, i));
    }
    float max = Lanes.max(maxV);
    for (; i < v; i++) {
      max = Math.max(max, a[i]);
    }
    float shiftedTarget = target < 0 ? 0f : a[target] - max;
    FloatVector maxB = FloatVector.broadcast(Lanes.FLOATS, max);
    FloatVector sumV = FloatVector.zero(Lanes.FLOATS);
    for (i = 0; i < bound; i += Lanes.N) {
      FloatVector e = Lanes.exp(Lanes.load(a, i).sub(maxB));
      Lanes.store(e, a, i);
      sumV = sumV.add(e);
    }
    float sum = Lanes.sum(sumV);
    for (; i < v; i++) {
      float e = Lanes.exp(a[i] - max);
      a[i] = e;
      sum += e;
    }
    FloatVector sumB = FloatVector.broadcast(Lanes.FLOATS, sum);
    for (i = 0; i < bound; i += Lanes.N) {
      Lanes.store(Lanes.load(a, i).div(sumB), a, i);
    }
    for (; i < v; i++) {
      a[i] /= sum;
    }
    return target < 0 ? 0f : shiftedTarget - (float) Math.log(sum);
  }
}
