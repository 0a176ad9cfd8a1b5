/*
 * BatchDecoding: what a server needs of a GPT to decode many sequences together - a slot per
 * sequence and one step over any set of slots. It is the seam for other weight formats (a
 * quantised model implements it too); it does not sample or tokenize.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.ndarray.INDArray;

/** One decoding step over the rows of independent sequences, each at its own position. */
public interface BatchDecoding extends AutoCloseable {

  /** The model's shape. */
  ModelConfig config();

  /** Most rows one {@link #step} takes. */
  int maxBatch();

  /**
   * A new, empty slot for one sequence of up to {@code capacity} positions; the caller closes it.
   *
   * @param capacity in [1, contextLength]
   */
  DecodeSlot newSlot(int capacity);

  /**
   * Feeds {@code tokens[i]} to {@code slots[i]} at that slot's next position, for i in [0, n), and
   * returns the logits of each row's next position. Each row's result depends only on its own slot
   * and token (up to float rounding), never on which other rows share the step.
   *
   * @return logits [n, V], a view valid until the next step
   */
  INDArray step(int[] tokens, DecodeSlot[] slots, int n);

  /** Releases the model's buffers (not the slots). */
  @Override
  void close();
}
