/*
 * StepChecks: the argument checks every optimizer step shares (buffer types and sizes, aliasing,
 * learning rate, lifecycle) and the release of state buffers. It holds no state and does no maths.
 */
package org.ringtrain.ops.optim;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.io.FlatBufferIo;
import org.ringtrain.ops.param.ParameterLayout;

/** Preconditions of {@link Optimizer#step}, with messages that name the value found. */
final class StepChecks {

  private StepChecks() {
  }

  /** Checks both buffers against {@code layout}, that they are distinct, and that {@code lr} is usable. */
  static void check(String optimizer, boolean closed, ParameterLayout layout, INDArray params, INDArray grads,
      double lr) {
    if (closed) {
      throw new IllegalStateException(optimizer + " was closed and cannot step; create a new one or read its "
          + "state back with OptimizerStateReader");
    }
    FlatBufferIo.checkFlat("params", params, layout.totalElements());
    FlatBufferIo.checkFlat("grads", grads, layout.totalElements());
    if (params == grads || params.data().address() + 4 * params.offset()
        == grads.data().address() + 4 * grads.offset()) {
      throw new IllegalArgumentException("params and grads must be different buffers, but both start at the same "
          + "address; pass the model's gradient buffer as grads");
    }
    checkLearningRate(lr);
  }

  /** A learning rate must be finite and non-negative. */
  static void checkLearningRate(double lr) {
    if (!(lr >= 0.0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("learning rate must be finite and >= 0, but found lr=" + lr
          + "; check the schedule's maxLr/minLr");
    }
  }

  /** Frees an optimizer-owned buffer now rather than at the next garbage collection. */
  static void release(INDArray a) {
    if (a != null && a.closeable()) {
      a.close();
    }
  }
}
