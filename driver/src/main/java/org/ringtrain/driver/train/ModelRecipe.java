// How the data-parallel rank loop builds and feeds one kind of model. The loop
// itself (ring, buckets, clipping, AdamW, checkpoints, replica checks, metrics)
// is the same for every model; a recipe supplies only what differs: the
// parameter layout, the initialised model, and how a micro-batch of rows
// becomes a forward pass. Training rows are int[] of a fixed width each: a GPT
// window of T+1 token ids, a classifier's padded token ids plus its label.
package org.ringtrain.driver.train;

import java.io.Serializable;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.TrainableModel;

/**
 * One kind of model for {@link DataParallelTrainer}. Serialised into every rank's task, so keep it
 * small: configuration only, never weights or data.
 */
public interface ModelRecipe extends Serializable {

  /** The parameter layout of the models this recipe creates (checkpoints are read against it). */
  ParameterLayout layout();

  /**
   * A float32 model initialised from {@code seed} (the same seed gives bitwise the same parameters),
   * ready for micro-batches of {@code microBatch} rows.
   */
  Instance create(long seed, int microBatch);

  /** Tokens a row holds, for the tokens/s metric (a GPT's context length, a classifier's maxLen). */
  int tokensPerRow();

  /**
   * Tokens of each row that are not padding, for length grouping ({@link LoopConfig#groupByLength})
   * and the step metrics' token and position counts; null when every row holds
   * {@link #tokensPerRow()} tokens. Default: null.
   */
  default int[] rowLengths(int[][] rows) {
    return null;
  }

  /**
   * The run's full configuration as JSON, stored verbatim in every checkpoint so that a checkpoint
   * says how it was made (the GPT's flat TrainConfig, the classifier's shape and loop settings).
   */
  String configJson();

  /**
   * Refuses to resume from a checkpoint this recipe's models cannot continue (e.g. adapters of
   * other base weights), with an IllegalArgumentException that says why and what to do. Called on
   * the driver before training and on each rank after loading. Default: accepts every checkpoint
   * whose tensors fit {@link #layout()}.
   */
  default void checkResume(TrainingState checkpoint) {
  }

  /** Forward plus backward FLOPs per token (row position), for the MFU metric. */
  double flopsPerToken();

  /** A model plus the buffers that turn rows into its forward pass; one per rank thread. */
  interface Instance extends AutoCloseable {

    /** The model, for the loop's buffers and backward. */
    TrainableModel model();

    /**
     * Forward with loss on the rows {@code rows[picked[0]], rows[picked[1]], ...} (exactly the
     * micro-batch size of them); returns the mean loss and leaves the model ready for backward.
     * An evaluation forward: no dropout.
     */
    double forward(int[][] rows, int[] picked);

    /**
     * The training forward of step {@code step} (0-based): as {@link #forward}, with the model's
     * dropout, if any, keyed by the step and the picked sample indices. Default: {@link #forward}
     * (a model without dropout).
     */
    default double forwardTraining(int[][] rows, int[] picked, long step) {
      return forward(rows, picked);
    }

    /** Frees the model. */
    @Override
    void close();
  }
}
