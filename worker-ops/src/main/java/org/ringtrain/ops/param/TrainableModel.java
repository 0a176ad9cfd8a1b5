// What a data-parallel trainer needs of a model, whatever its forward pass
// takes: the flat parameter and gradient buffers with their layout, zeroing,
// and a backward pass that reports finished gradient ranges. Each model keeps
// its own forward signature (a GPT takes token windows, a classifier token
// rows and labels); the trainer's per-model adapter calls it.
package org.ringtrain.ops.param;

/**
 * A model trained on one flat float32 parameter buffer. Implementations are not thread-safe: one
 * model per rank thread.
 */
public interface TrainableModel extends AutoCloseable {

  /** The ordered table of parameter tensors; params, grads and optimizer moments share it. */
  ParameterLayout layout();

  /** The parameters: one flat buffer, every tensor a view into it. */
  ParameterBuffer params();

  /** The gradients, same layout as {@link #params()}; allocated on first use. */
  ParameterBuffer grads();

  /** Sets every gradient to zero; backward accumulates. */
  void zeroGrad();

  /** Backward after a forward with labels or targets; accumulates into {@link #grads()}. */
  default void backward() {
    backward(null);
  }

  /**
   * As {@link #backward()}, telling {@code listener} (if not null) each time a range of the flat
   * gradient buffer is final, from the end of the buffer towards its start.
   */
  void backward(GradientListener listener);

  /** Frees parameters, gradients and activations now. */
  @Override
  void close();
}
