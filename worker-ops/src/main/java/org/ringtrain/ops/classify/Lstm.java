/*
 * Lstm: one unidirectional LSTM layer over a time-major batch with explicit backpropagation through
 * time, as a forward/backward pair. It is not bidirectional, has no peepholes, projection or
 * dropout, and starts every sequence from h = c = 0.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.kernels.LstmCellKernel;
import org.ringtrain.ops.kernels.RowGemm;
import org.ringtrain.ops.layers.Kernels;
import org.ringtrain.ops.layers.Linear;

/**
 * Hochreiter and Schmidhuber's LSTM with a forget gate (Gers et al. 2000), PyTorch's nn.LSTM
 * equations and gate order i, f, g, o (one bias instead of PyTorch's two):
 * <pre>
 *   [i f g o] = x_t @ w_ih + h_{t-1} @ w_hh + bias        each [B, H]
 *   i, f, o = sigmoid(.),  g = tanh(.)
 *   c_t = f * c_{t-1} + i * g
 *   h_t = o * tanh(c_t)
 * </pre>
 * with h_{-1} = c_{-1} = 0. The input projection of all steps is one gemm up front
 * ({@code [T*B, Cin] x [Cin, 4H]}); each step adds one recurrent gemm ({@code [B, H] x [H, 4H]}) and
 * the element-wise cell. Backward runs the steps in reverse, then turns the gate gradients of all
 * steps into weight and input gradients with three gemms.
 *
 * <p>In float32 (when {@link Fused#accepts} the arrays) a step's element-wise work is one call of
 * {@link LstmCellKernel} in each direction and its gemm goes to BLAS without ND4J views
 * ({@link RowGemm}), so a step costs one gemm and one kernel call; otherwise
 * (float64, or {@code -Dringtrain.kernels.nd4j=true}) it is ~8 ND4J ops forward and ~12 backward
 * on [B, H] views, the reference the kernel is tested against.
 *
 * <p>Arrays are time-major: rows {@code t*B .. t*B+B-1} of a {@code [T*B, X]} array are step t.
 * All of them may be prefix views of larger buffers.
 */
final class Lstm {

  private Lstm() {
  }

  /**
   * Forward pass.
   *
   * @param out    [T*B, H] hidden states h_t, overwritten
   * @param c      [T*B, H] cell states, saved for backward
   * @param tanhC  [T*B, H] tanh(c_t), saved for backward
   * @param act    [T*B, 4H] gate activations i, f, g, o (after sigmoid/tanh), saved for backward
   * @param inp    [T*B, Cin] inputs x_t
   * @param wih    [Cin, 4H]
   * @param whh    [H, 4H]
   * @param bias   [4H]
   * @param steps  T
   * @param batch  B
   */
  static void forward(INDArray out, INDArray c, INDArray tanhC, INDArray act, INDArray inp,
      INDArray wih, INDArray whh, INDArray bias, int steps, int batch) {
    Linear.forward(act, inp, wih, bias); // input projection of every step at once
    if (Fused.accepts(out, c, tanhC, act, whh)) {
      for (int t = 0; t < steps; t++) {
        if (t > 0) {
          RowGemm.gemm(act, (long) t * batch, out, (long) (t - 1) * batch, whh, false, batch, 1f);
        }
        LstmCellKernel.forward(act, c, tanhC, out, t, batch);
      }
      return;
    }
    stepsForwardNd4j(out, c, tanhC, act, whh, steps, batch);
  }

  /**
   * {@link #forward} as ND4J ops only, whatever the data type: the float64 path, and the reference
   * the fused float32 path is tested against.
   */
  static void forwardNd4j(INDArray out, INDArray c, INDArray tanhC, INDArray act, INDArray inp,
      INDArray wih, INDArray whh, INDArray bias, int steps, int batch) {
    Linear.forwardNd4j(act, inp, wih, bias);
    stepsForwardNd4j(out, c, tanhC, act, whh, steps, batch);
  }

  private static void stepsForwardNd4j(INDArray out, INDArray c, INDArray tanhC, INDArray act, INDArray whh,
      int steps, int batch) {
    long h = whh.size(0);
    for (int t = 0; t < steps; t++) {
      INDArray actT = rows(act, t, batch); // [B, 4H]
      INDArray cT = rows(c, t, batch); // [B, H]
      INDArray tanhCt = rows(tanhC, t, batch); // [B, H]
      if (t > 0) {
        Kernels.gemm(actT, rows(out, t - 1, batch), whh, false, false, 1.0, 1.0);
      }
      INDArray ifGates = cols(actT, 0, 2 * h); // [B, 2H]
      INDArray g = cols(actT, 2 * h, 3 * h);
      INDArray o = cols(actT, 3 * h, 4 * h);
      Nd4j.exec(new Sigmoid(ifGates, ifGates));
      Nd4j.exec(new Tanh(g, g));
      Nd4j.exec(new Sigmoid(o, o));
      cols(actT, 0, h).mul(g, cT); // i * g
      if (t > 0) {
        cols(actT, h, 2 * h).mul(rows(c, t - 1, batch), tanhCt); // f * c_{t-1}, tanhCt as scratch
        cT.addi(tanhCt);
      }
      Nd4j.exec(new Tanh(cT, tanhCt));
      o.mul(tanhCt, rows(out, t, batch));
    }
  }

  /**
   * Backward pass through time: overwrites {@code dinp}, accumulates into {@code dwih},
   * {@code dwhh} and {@code dbias}. With dc the gradient of c_t (from h_t and from c_{t+1}):
   * {@code do = dh tanh(c)}, {@code dc = dh o (1 - tanh^2 c) + dc_{t+1} f_{t+1}},
   * {@code di = dc g}, {@code df = dc c_{t-1}}, {@code dg = dc i}; pre-activation gradients multiply
   * by {@code s (1 - s)} (sigmoid gates) or {@code 1 - g^2}, and
   * {@code dh_{t-1} += dgates_t @ w_hh^T}.
   *
   * @param dinp    [T*B, Cin] overwritten
   * @param dwih    [Cin, 4H] accumulated
   * @param dwhh    [H, 4H] accumulated
   * @param dbias   [4H] accumulated
   * @param dout    [T*B, H] gradient of the hidden states from above (read only)
   * @param inp     [T*B, Cin] the forward input
   * @param out     [T*B, H] from forward
   * @param c       [T*B, H] from forward
   * @param tanhC   [T*B, H] from forward
   * @param act     [T*B, 4H] from forward
   * @param wih     [Cin, 4H]
   * @param whh     [H, 4H]
   * @param dgates  [T*B, 4H] scratch: pre-activation gate gradients
   * @param deriv   [T*B, 4H] scratch: activation derivatives (ND4J path only)
   * @param oDtanh  [T*B, H] scratch: o (1 - tanh^2 c) (ND4J path only)
   * @param dh      [B, H] scratch
   * @param dc      [B, H] scratch (ND4J path only)
   * @param dcNext  [B, H] scratch
   * @param ones    [1, >= T*B] all ones
   * @param steps   T
   * @param batch   B
   */
  static void backward(INDArray dinp, INDArray dwih, INDArray dwhh, INDArray dbias, INDArray dout,
      INDArray inp, INDArray out, INDArray c, INDArray tanhC, INDArray act, INDArray wih, INDArray whh,
      INDArray dgates, INDArray deriv, INDArray oDtanh, INDArray dh, INDArray dc, INDArray dcNext,
      INDArray ones, int steps, int batch) {
    if (Fused.accepts(dgates, dcNext, dh, dout, act, c, tanhC, whh)) {
      for (int t = steps - 1; t >= 0; t--) {
        if (t < steps - 1) {
          RowGemm.gemm(dh, 0, dgates, (long) (t + 1) * batch, whh, true, batch, 0f);
        }
        LstmCellKernel.backward(dgates, dcNext, dh, dout, act, c, tanhC, t, steps, batch);
      }
    } else {
      stepsBackwardNd4j(dgates, dout, c, tanhC, act, whh, deriv, oDtanh, dh, dc, dcNext, steps, batch);
    }
    weightGradients(dinp, dwih, dwhh, dbias, inp, out, wih, dgates, ones, steps, batch);
  }

  /** {@link #backward} as ND4J ops only (but for the column sums' kernel); see {@link #forwardNd4j}. */
  static void backwardNd4j(INDArray dinp, INDArray dwih, INDArray dwhh, INDArray dbias, INDArray dout,
      INDArray inp, INDArray out, INDArray c, INDArray tanhC, INDArray act, INDArray wih, INDArray whh,
      INDArray dgates, INDArray deriv, INDArray oDtanh, INDArray dh, INDArray dc, INDArray dcNext,
      INDArray ones, int steps, int batch) {
    stepsBackwardNd4j(dgates, dout, c, tanhC, act, whh, deriv, oDtanh, dh, dc, dcNext, steps, batch);
    weightGradients(dinp, dwih, dwhh, dbias, inp, out, wih, dgates, ones, steps, batch);
  }

  /** The steps of {@link #backward} as ND4J ops: the float64 path and the reference of the fused one. */
  private static void stepsBackwardNd4j(INDArray dgates, INDArray dout, INDArray c, INDArray tanhC, INDArray act,
      INDArray whh, INDArray deriv, INDArray oDtanh, INDArray dh, INDArray dc, INDArray dcNext, int steps,
      int batch) {
    long h = whh.size(0);
    // Everything that does not depend on the recurrence, for all steps at once.
    act.mul(act, deriv);
    act.sub(deriv, deriv); // s (1 - s)
    INDArray gAll = cols(act, 2 * h, 3 * h);
    INDArray derivG = cols(deriv, 2 * h, 3 * h);
    gAll.mul(gAll, derivG);
    derivG.rsubi(1.0); // 1 - g^2
    tanhC.mul(tanhC, oDtanh);
    oDtanh.rsubi(1.0);
    oDtanh.muli(cols(act, 3 * h, 4 * h)); // o (1 - tanh^2 c)
    for (int t = steps - 1; t >= 0; t--) {
      INDArray actT = rows(act, t, batch); // [B, 4H]
      INDArray dgT = rows(dgates, t, batch); // [B, 4H]
      if (t == steps - 1) {
        dh.assign(rows(dout, t, batch));
      } else {
        Kernels.gemm(dh, rows(dgates, t + 1, batch), whh, false, true, 1.0, 0.0);
        dh.addi(rows(dout, t, batch));
      }
      dh.mul(rows(tanhC, t, batch), cols(dgT, 3 * h, 4 * h)); // do
      dh.mul(rows(oDtanh, t, batch), dc);
      if (t < steps - 1) {
        dc.addi(dcNext);
      }
      dc.mul(cols(actT, 2 * h, 3 * h), cols(dgT, 0, h)); // di = dc g
      if (t > 0) {
        dc.mul(rows(c, t - 1, batch), cols(dgT, h, 2 * h)); // df = dc c_{t-1}
        dc.mul(cols(actT, h, 2 * h), dcNext); // dc_{t-1} from this step
      } else {
        cols(dgT, h, 2 * h).assign(0.0);
      }
      dc.mul(cols(actT, 0, h), cols(dgT, 2 * h, 3 * h)); // dg = dc i
      dgT.muli(rows(deriv, t, batch)); // pre-activation gradients
    }
  }

  /** The gate gradients of all steps into weight, bias and input gradients: four gemm-sized calls. */
  private static void weightGradients(INDArray dinp, INDArray dwih, INDArray dwhh, INDArray dbias, INDArray inp,
      INDArray out, INDArray wih, INDArray dgates, INDArray ones, int steps, int batch) {
    long n = (long) steps * batch;
    Kernels.gemm(dwih, inp, dgates, true, false, 1.0, 1.0);
    Kernels.addColumnSums(dbias, dgates, ones, 1.0);
    if (steps > 1) {
      long m = n - batch;
      Kernels.gemm(dwhh, out.get(NDArrayIndex.interval(0, m), NDArrayIndex.all()),
          dgates.get(NDArrayIndex.interval(batch, n), NDArrayIndex.all()), true, false, 1.0, 1.0);
    }
    Kernels.gemm(dinp, dgates, wih, false, true, 1.0, 0.0);
  }

  /** Rows of step t, {@code [B, X]}, of a time-major {@code [T*B, X]} array. */
  static INDArray rows(INDArray a, int t, int batch) {
    long from = (long) t * batch;
    return a.get(NDArrayIndex.interval(from, from + batch), NDArrayIndex.all());
  }

  /** Columns [from, to) of a 2-D array. */
  private static INDArray cols(INDArray a, long from, long to) {
    INDArrayIndex all = NDArrayIndex.all();
    return a.get(all, NDArrayIndex.interval(from, to));
  }
}
