/*
 * Checkpoint: one checkpoint as read back by CheckpointStore, already verified. The weights and an
 * unsharded checkpoint's optimizer state are in memory, owned by whoever holds this; a sharded
 * checkpoint's optimizer state stays in its files (OptimizerSlices) until a rank reads its part.
 */
package org.ringtrain.driver.checkpoint;

import java.io.IOException;
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
 * @param optimizer the restored optimizer of an unsharded checkpoint, with step count and moments (its next
 *                  step equals the one that would have followed the save); null for a sharded one
 * @param slices    a sharded checkpoint's optimizer state, read on demand; null for an unsharded one
 */
public record Checkpoint(String path, TrainingState state, INDArray params, Optimizer optimizer,
    OptimizerSlices slices) implements AutoCloseable {

  /**
   * The whole optimizer: {@link #optimizer()}, or a sharded checkpoint's slices read in full (for
   * a run that resumes without sharding; a sharded run reads only its part, {@link OptimizerSlices#shard}).
   */
  public Optimizer loadOptimizer() throws IOException { // the caller owns (closes) it
    return optimizer != null ? optimizer : slices.assemble();
  }

  /** Releases the off-heap memory of {@code params} and {@code optimizer}; neither is usable afterwards. */
  @Override
  public void close() {
    if (optimizer != null) {
      optimizer.close();
    }
    if (params.closeable()) {
      params.close();
    }
  }
}
