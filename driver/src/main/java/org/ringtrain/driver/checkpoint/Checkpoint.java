/*
 * Checkpoint: one checkpoint as read back by CheckpointStore, already verified. It is not a handle
 * on the files: the weights and the optimizer state are in memory, owned by whoever holds this.
 */
package org.ringtrain.driver.checkpoint;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.optim.Optimizer;

/**
 * A checkpoint as read back and verified by {@link CheckpointStore#loadLatestValid}.
 *
 * <p>The caller owns {@code params} and {@code optimizer}. Copy the parameters into the model's
 * buffer (or adopt the array) and adopt the optimizer; call {@link #close()} only to drop a
 * checkpoint whose buffers nobody uses, since it releases both.
 *
 * @param path      fully qualified path of the checkpoint directory, e.g. {@code file:/ckpt/step-000000100}
 * @param state     the training position
 * @param params    flat float32 parameters of {@code layout.totalElements()} elements, in the layout's order
 * @param optimizer the restored optimizer, with step count and moments; its next step equals the one that
 *                  would have followed the save
 */
public record Checkpoint(String path, TrainingState state, INDArray params, Optimizer optimizer)
    implements AutoCloseable {

  /** Releases the off-heap memory of {@code params} and {@code optimizer}; neither is usable afterwards. */
  @Override
  public void close() {
    optimizer.close();
    if (params.closeable()) {
      params.close();
    }
  }
}
