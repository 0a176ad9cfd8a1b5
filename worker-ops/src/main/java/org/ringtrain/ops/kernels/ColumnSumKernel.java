/*
 * ColumnSumKernel: out[j] += alpha * sum_i inp[i, j] in float32, one read of inp: the bias
 * gradients of Linear and the position-embedding gradient of Encoder. Rows are summed in fixed
 * chunks and the chunk sums added in chunk order, so the result does not depend on the thread
 * count. It is not a general reduction.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Column sums of a [M, N] matrix added into an [N] vector. */
public final class ColumnSumKernel {

  /** Rows per chunk of work and per partial sum. */
  static final int CHUNK = 32;

  private ColumnSumKernel() {
  }

  /**
   * {@code out[j] += alpha * sum_i inp[i, j]}.
   *
   * @param out   [N] (or [1, N]) accumulated
   * @param inp   [M, N]
   * @param alpha scale of the sums
   */
  public static void add(INDArray out, INDArray inp, double alpha) {
    int m = (int) inp.size(0);
    int n = (int) inp.size(1);
    int chunks = (m + CHUNK - 1) / CHUNK;
    ByteBuffer x = Fused.floats(inp);
    // One row of partial sums per chunk, written by whichever thread runs the chunk; the caller
    // reads them after forChunks returns (which waits for every chunk).
    float[] partials = Scratch.floats(0, chunks * n);
    Parallel.forChunks(m, CHUNK, (from, to) -> {
      int at = from / CHUNK * n;
      int bound = Lanes.bound(n);
      int j = 0;
      // Column blocks of one vector, summed down the chunk's rows in a register.
      for (; j < bound; j += Lanes.N) {
        FloatVector acc = FloatVector.zero(Lanes.FLOATS);
        for (int row = from; row < to; row++) {
          acc = acc.add(Lanes.load(x, row * n + j));
        }
        Lanes.store(acc, partials, at + j);
      }
      for (; j < n; j++) {
        float acc = 0f;
        for (int row = from; row < to; row++) {
          acc += x.getFloat((row * n + j) * 4);
        }
        partials[at + j] = acc;
      }
    });
    float[] acc = Scratch.floats(1, n);
    System.arraycopy(partials, 0, acc, 0, n);
    int bound = Lanes.bound(n);
    for (int k = 1; k < chunks; k++) {
      int at = k * n;
      int j = 0;
      for (; j < bound; j += Lanes.N) {
        Lanes.store(Lanes.load(acc, j).add(Lanes.load(partials, at + j)), acc, j);
      }
      for (; j < n; j++) {
        acc[j] += partials[at + j];
      }
    }
    ByteBuffer o = Fused.floats(out);
    float a = (float) alpha;
    for (int j = 0; j < n; j++) {
      o.putFloat(j * 4, o.getFloat(j * 4) + (a == 1f ? acc[j] : a * acc[j]));
    }
  }
}
