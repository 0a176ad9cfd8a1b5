/*
 * PairKernel: element-wise sum and product of two same-shape float32 arrays into a third, one
 * pass over memory split over the rank's threads. It replaces ND4J's pairwise op where the call's
 * dispatch costs more than the pass (the residual adds and the GELU output recompute of a small
 * Transformer). It is not a broadcast: shapes must match (see Kernels.broadcastAdd for those).
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code out = x + y} and {@code out = x * y}, element by element; each result is one IEEE operation. */
public final class PairKernel {

  /** Elements per chunk of work. */
  static final int CHUNK = 16384;

  private PairKernel() {
  }

  /**
   * {@code out = x + y}; out may be x or y.
   *
   * @param out [same shape] overwritten
   * @param x   any shape, dense float32
   * @param y   x's shape
   */
  public static void add(INDArray out, INDArray x, INDArray y) {
    apply(out, x, y, false);
  }

  /** {@code out = x * y}; as {@link #add}. */
  public static void mul(INDArray out, INDArray x, INDArray y) {
    apply(out, x, y, true);
  }

  private static void apply(INDArray out, INDArray x, INDArray y, boolean product) {
    if (out.length() != x.length() || y.length() != x.length()) {
      throw new IllegalArgumentException("PairKernel: expected three arrays of one length, but found out "
          + Arrays.toString(out.shape()) + ", x " + Arrays.toString(x.shape()) + ", y " + Arrays.toString(y.shape())
          + "; use a broadcast op for arrays of different shapes");
    }
    int n = (int) x.length();
    ByteBuffer o = Fused.floats(out);
    ByteBuffer a = Fused.floats(x);
    ByteBuffer b = Fused.floats(y);
    Parallel.forChunks(n, CHUNK, (from, to) -> {
      int bound = from + Lanes.bound(to - from);
      int i = from;
      for (; i < bound; i += Lanes.N) {
        FloatVector va = Lanes.load(a, i);
        FloatVector vb = Lanes.load(b, i);
        Lanes.store(product ? va.mul(vb) : va.add(vb), o, i);
      }
      for (; i < to; i++) {
        float p = a.getFloat(i * 4);
        float q = b.getFloat(i * 4);
        o.putFloat(i * 4, product ? p * q : p + q);
      }
    });
  }
}
