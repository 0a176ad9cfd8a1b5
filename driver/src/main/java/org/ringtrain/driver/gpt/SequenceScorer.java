/*
 * SequenceScorer: the summed loss of batches of token sequences under some model's weights, opened
 * on an executor from a serialisable factory, so that GptEvaluator scores float32 checkpoints and
 * int8 quantised models with one Spark job. It does not read data or aggregate results.
 */
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.io.Serializable;

/** Scores batches of sequences; opened per partition, closed after it. Not thread-safe. */
public interface SequenceScorer extends AutoCloseable {

  /**
   * The summed cross-entropy of B sequences.
   *
   * @param inputs  B*T token ids, row-major [B, T]
   * @param targets B*T next-token ids
   * @return the sum over all B*T positions of -log p(target)
   */
  double lossSum(int[] inputs, int[] targets, int batch, int seqLen);

  @Override
  void close();

  /**
   * What an evaluation broadcasts once ({@code payload}: the weights as one serialisable value) and
   * how each task opens a scorer from it ({@code opener}, which must not capture the weights).
   *
   * @param payload the weights, broadcast to executors once
   * @param opener  opens a scorer on the broadcast value
   */
  record Factory(Serializable payload, Opener opener) {
  }

  /** Opens a scorer on a factory's payload; serialised with each task, so it must stay small. */
  @FunctionalInterface
  interface Opener extends Serializable {
    /** A scorer over {@code payload}, which the caller closes. */
    SequenceScorer open(Object payload) throws IOException;
  }
}
