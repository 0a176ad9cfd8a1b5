/*
 * BiasKernel: writes a bias row into every row of a matrix, so that a following gemm with
 * beta = 1 adds the bias in its own output pass (Linear's forward). One write pass, no reads of
 * the output; it is not a general broadcast.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code out[i, :] = bias} for every row i. */
public final class BiasKernel {

  /** Rows per chunk of work. */
  static final int CHUNK = 16;

  private BiasKernel() {
  }

  /**
   * Fills every row of {@code out} with {@code bias}.
   *
   * @param out  [N, C] overwritten
   * @param bias [C]
   */
  public static void fillRows(INDArray out, INDArray bias) {
    int n = (int) out.size(0);
    int c = (int) out.size(1);
    ByteBuffer o = Fused.floats(out);
    ByteBuffer b = Fused.floats(bias);
    Parallel.forChunks(n, CHUNK, (from, to) -> {
      int bound = Lanes.bound(c);
      for (int row = from; row < to; row++) {
        int base = row * c;
        int i = 0;
        for (; i < bound; i += Lanes.N) {
          Lanes.store(Lanes.load(b, i), o, base + i);
        }
        for (; i < c; i++) {
          o.putFloat((base + i) * 4, b.getFloat(i * 4));
        }
      }
    });
  }
}
