/*
 * MaskedMeanPool: the mean of a row's vectors over its non-padding positions, as a weighted sum
 * with weights 1/len (0 on padding), in a batch-major, a time-major and a packed variant. It is not a
 * max-pool or an attention pool and does not look at token ids (the model fills the weights).
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.layers.Kernels;
import org.ringtrain.ops.layers.PackedRows;

/**
 * {@code out[b, :] = sum_t w[b, t] inp[b, t, :]} with {@code w[b, t] = 1/len_b} for
 * {@code t < len_b} and 0 after. A padded position's weight is exactly 0, so neither its value
 * nor (in backward) its gradient reaches the output: its input gradient is exactly 0.
 */
final class MaskedMeanPool {

  private MaskedMeanPool() {
  }

  /**
   * Fills the pooling weights for rows of these lengths.
   *
   * @param weights   [B*T'] contiguous, overwritten; batch-major (b*T'+t) or time-major (t*B+b)
   * @param lengths   B row lengths, each in [1, T']
   * @param steps     T'
   * @param timeMajor the order of {@code weights}
   */
  static void fillWeights(INDArray weights, int[] lengths, int steps, boolean timeMajor) {
    DataBuffer data = weights.data();
    long base = Kernels.bufferIndex(weights);
    int batch = lengths.length;
    for (int b = 0; b < batch; b++) {
      double w = 1.0 / lengths[b];
      for (int t = 0; t < steps; t++) {
        long i = timeMajor ? (long) t * batch + b : (long) b * steps + t;
        data.put(base + i, t < lengths[b] ? w : 0.0);
      }
    }
  }

  /**
   * Batch-major forward, one batched matmul {@code [B, 1, T'] x [B, T', C]}.
   *
   * @param out     [B, C] overwritten
   * @param inp     [B*T', C]
   * @param weights [B*T'] from {@link #fillWeights} (batch-major)
   * @param batch   B
   * @param steps   T'
   */
  static void forward(INDArray out, INDArray inp, INDArray weights, int batch, int steps) {
    long c = inp.size(1);
    Kernels.bmm(out.reshape(batch, 1, c), weights.reshape(batch, 1, steps), inp.reshape(batch, steps, c),
        false, false, 1.0, 0.0);
  }

  /**
   * Batch-major backward: {@code dinp[b, t, :] = w[b, t] dout[b, :]}, an outer product per row.
   *
   * @param dinp    [B*T', C] overwritten
   * @param dout    [B, C]
   * @param weights [B*T'] as in forward
   * @param batch   B
   * @param steps   T'
   */
  static void backward(INDArray dinp, INDArray dout, INDArray weights, int batch, int steps) {
    long c = dinp.size(1);
    Kernels.bmm(dinp.reshape(batch, steps, c), weights.reshape(batch, 1, steps), dout.reshape(batch, 1, c),
        true, false, 1.0, 0.0);
  }

  /**
   * Fills the pooling weights of packed rows: {@code w[b, i] = 1/len_b} for row b's packed rows i,
   * 0 for every other (another row's, slack).
   *
   * @param weights [B, R] contiguous, overwritten
   * @param rows    the packing
   */
  static void fillPackedWeights(INDArray weights, PackedRows rows) {
    weights.assign(0);
    DataBuffer data = weights.data();
    long base = Kernels.bufferIndex(weights);
    long width = weights.size(1);
    for (int b = 0; b < rows.batch(); b++) {
      double w = 1.0 / rows.length(b);
      long at = base + b * width + rows.offset(b);
      for (int t = 0; t < rows.length(b); t++) {
        data.put(at + t, w);
      }
    }
  }

  /**
   * Packed forward, one gemm {@code [B, R] x [R, C]} (a row's weights are 0 outside its tokens).
   *
   * @param out     [B, C] overwritten
   * @param inp     [R, C] packed rows
   * @param weights [B, R] from {@link #fillPackedWeights}
   */
  static void forwardPacked(INDArray out, INDArray inp, INDArray weights) {
    Kernels.gemm(out, weights, inp, false, false, 1.0, 0.0);
  }

  /**
   * Packed backward: {@code dinp = weights^T dout}, so a token gets {@code dout[b] / len_b} and a
   * slack row exactly 0.
   *
   * @param dinp    [R, C] overwritten
   * @param dout    [B, C]
   * @param weights [B, R] as in forward
   */
  static void backwardPacked(INDArray dinp, INDArray dout, INDArray weights) {
    Kernels.gemm(dinp, weights, dout, true, false, 1.0, 0.0);
  }

  /**
   * Time-major forward: scale each row by its weight, then sum the T' step blocks with a gemm.
   *
   * @param out     [B, C] overwritten
   * @param inp     [T'*B, C] time-major
   * @param weights [T'*B] from {@link #fillWeights} (time-major)
   * @param tmp     [T'*B, C] scratch
   * @param ones    [1, >= T'] all ones
   * @param batch   B
   * @param steps   T'
   */
  static void forwardTimeMajor(INDArray out, INDArray inp, INDArray weights, INDArray tmp, INDArray ones,
      int batch, int steps) {
    long c = inp.size(1);
    Kernels.broadcastMul(tmp, inp, Kernels.column(weights));
    Kernels.gemm(out.reshape(1, batch * c), prefix(ones, steps).reshape(1, steps), tmp.reshape(steps, batch * c),
        false, false, 1.0, 0.0);
  }

  /**
   * Time-major backward: broadcast dout over the steps (a rank-1 gemm), then scale by the weights.
   *
   * @param dinp    [T'*B, C] overwritten
   * @param dout    [B, C]
   * @param weights [T'*B] as in forward
   * @param ones    [1, >= T'] all ones
   * @param batch   B
   * @param steps   T'
   */
  static void backwardTimeMajor(INDArray dinp, INDArray dout, INDArray weights, INDArray ones, int batch,
      int steps) {
    long c = dinp.size(1);
    Kernels.gemm(dinp.reshape(steps, batch * c), prefix(ones, steps).reshape(steps, 1), dout.reshape(1, batch * c),
        false, false, 1.0, 0.0);
    Kernels.broadcastMul(dinp, dinp, Kernels.column(weights));
  }

  /** The first n elements of a contiguous vector, as a vector. */
  static INDArray prefix(INDArray vector, long n) {
    INDArray flat = vector.reshape(vector.length());
    return n == flat.length() ? flat : flat.get(NDArrayIndex.interval(0, n));
  }
}
