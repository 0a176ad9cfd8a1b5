/*
 * SoftTargetKl: the soft-target term of knowledge distillation (Hinton, Vinyals and Dean 2015,
 * "Distilling the Knowledge in a Neural Network", arXiv:1503.02531), the KL divergence from a
 * teacher's temperature-softened distribution to the student's, summed over the rows whose target
 * is kept. It works on [N, V] logits as ND4J ops, in float32 or float64. It is not the
 * cross-entropy (SoftmaxCrossEntropy), does not weight the two terms against each other (the
 * caller does, see ops.gpt.SoftTargets), and owns no buffer.
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.LogSoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code sum over kept rows i of KL(p_i || q_i)} with {@code p_i = softmax(teacher[i] / tau)} and
 * {@code q_i = softmax(logits[i] / tau)}; its gradient is
 * {@code d/d logits[i] = (q_i - p_i) / tau}.
 */
public final class SoftTargetKl {

  private SoftTargetKl() {
  }

  /**
   * The teacher's side, computed once per batch: {@code logProbs = log_softmax(teacherLogits / tau)}
   * and {@code probs = exp(logProbs)}. Log-probabilities come from ND4J's log-softmax, so they stay
   * finite where a probability underflows to 0 (and {@code 0 * log p} stays 0 in the KL).
   *
   * @param logProbs      [N, V] output
   * @param probs         [N, V] output
   * @param teacherLogits [N, V]
   * @param tau           temperature, > 0
   */
  public static void teacherForward(INDArray logProbs, INDArray probs, INDArray teacherLogits, double tau) {
    logProbs.assign(teacherLogits).divi(tau);
    Nd4j.exec(new LogSoftMax(logProbs, logProbs));
    Nd4j.exec(new Exp(logProbs, probs));
  }

  /**
   * Forward: the KL summed over the kept rows (rows whose target is {@code ignoreIndex} count 0).
   *
   * @param scratch         [N, V] overwritten (the student's log-probabilities, then the terms)
   * @param logits          [N, V] the student's logits, unchanged
   * @param teacherLogProbs [N, V] from {@link #teacherForward}
   * @param teacherProbs    [N, V] from {@link #teacherForward}
   * @param targets         N target ids (only compared with {@code ignoreIndex})
   * @param tau             temperature, > 0
   * @return {@code sum over kept i of sum_v p_iv (log p_iv - log q_iv)}
   */
  public static double forwardSum(INDArray scratch, INDArray logits, INDArray teacherLogProbs,
      INDArray teacherProbs, int[] targets, int ignoreIndex, double tau) {
    scratch.assign(logits).divi(tau);
    Nd4j.exec(new LogSoftMax(scratch, scratch));
    scratch.rsubi(teacherLogProbs).muli(teacherProbs); // p (log p - log q)
    INDArray rowSums = scratch.sum(1); // [N], a small temporary
    double sum = 0;
    for (int i = 0; i < targets.length; i++) {
      if (targets[i] != ignoreIndex) {
        sum += rowSums.getDouble(i);
      }
    }
    return sum;
  }

  /**
   * Backward of {@code scale * forwardSum}: overwrites
   * {@code dlogits[i] = scale / tau * (softmax(logits[i] / tau) - p_i)} for kept rows and 0 for
   * ignored rows. {@code dlogits} may not be {@code logits}: the caller adds it to the other
   * term's gradient.
   *
   * @param dlogits      [N, V] overwritten
   * @param logits       [N, V] the student's logits, unchanged
   * @param teacherProbs [N, V] from {@link #teacherForward}
   * @param scale        d(objective)/d(forwardSum), e.g. alpha * tau^2 / kept rows of the batch
   */
  public static void backward(INDArray dlogits, INDArray logits, INDArray teacherProbs, int[] targets,
      int ignoreIndex, double tau, double scale) {
    dlogits.assign(logits).divi(tau);
    Nd4j.exec(new SoftMax(dlogits, dlogits, 1));
    dlogits.subi(teacherProbs).muli(scale / tau);
    long v = dlogits.size(1);
    DataBuffer d = dlogits.data();
    long base = Kernels.bufferIndex(dlogits);
    for (int i = 0; i < targets.length; i++) {
      if (targets[i] == ignoreIndex) {
        // Padding rows are rare: a plain loop is enough.
        for (long j = 0; j < v; j++) {
          d.put(base + i * v + j, 0.0);
        }
      }
    }
  }
}
