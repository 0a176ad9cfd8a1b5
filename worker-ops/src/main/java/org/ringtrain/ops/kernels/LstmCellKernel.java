/*
 * LstmCellKernel: the element-wise part of one LSTM time step in float32, forward and backward, one
 * pass over the step's rows each. The recurrent matmul, the input projection and the weight
 * gradients are not here (the layer runs them as gemms), and neither is the float64 path: the
 * maths and the ND4J composition it replaces are Lstm's in org.ringtrain.ops.classify.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One step t of PyTorch's nn.LSTM cell (gate order i, f, g, o) on time-major arrays, where rows
 * {@code t*B .. t*B+B-1} of a {@code [T*B, X]} array are step t:
 * <pre>
 *   forward:  i, f, o = sigmoid(z),  g = tanh(z),  c_t = i g + f c_{t-1},  h_t = o tanh(c_t)
 *   backward: dh = dout_t + dh_rec,  do = dh tanh(c_t),  dc = dh o (1 - tanh^2 c_t) + dc_{t+1} f_{t+1},
 *             di = dc g,  df = dc c_{t-1},  dg = dc i,  then times s (1 - s) or 1 - g^2
 * </pre>
 * with c_{-1} = 0. Every array is float32 and accepted by {@link Fused#accepts}; the caller
 * checks. sigmoid and tanh are built from {@link Lanes#exp}, so a result's bits do not depend on
 * the vector width, the JIT's progress or the thread count (rows are split into fixed chunks).
 */
public final class LstmCellKernel {

  /** Elements per chunk of work; a step of the classifier's default shape (B=32, H=64) is one chunk. */
  static final int CHUNK = 16 * 1024;
  /** Below this |x|, tanh is its Taylor series: the exp form would lose digits to cancellation. */
  private static final float TANH_SERIES = 0.125f;
  private static final float T3 = -1f / 3;
  private static final float T5 = 2f / 15;
  private static final float T7 = -17f / 315;
  private static final FloatVector ONE = FloatVector.broadcast(Lanes.FLOATS, 1f);

  private LstmCellKernel() {
  }

  /**
   * Forward of step t: turns the step's pre-activations in {@code act} into gate activations in
   * place and writes the step's rows of {@code c}, {@code tanhC} and {@code out}.
   *
   * @param act   [T*B, 4H] step t: in, x_t w_ih + h_{t-1} w_hh + bias; out, i, f, g, o
   * @param c     [T*B, H] step t written; step t-1 read when t > 0
   * @param tanhC [T*B, H] step t written
   * @param out   [T*B, H] step t written (h_t)
   * @param t     the step
   * @param batch B
   */
  public static void forward(INDArray act, INDArray c, INDArray tanhC, INDArray out, int t, int batch) {
    int h = (int) c.size(1);
    ByteBuffer a = Fused.floats(act);
    ByteBuffer cb = Fused.floats(c);
    ByteBuffer tc = Fused.floats(tanhC);
    ByteBuffer o = Fused.floats(out);
    int first = t * batch;
    Parallel.forChunks(batch, rowsPerChunk(h), (from, to) -> {
      for (int r = first + from; r < first + to; r++) {
        forwardRow(a, cb, tc, o, r, t > 0 ? r - batch : -1, h);
      }
    });
  }

  private static void forwardRow(ByteBuffer a, ByteBuffer c, ByteBuffer tc, ByteBuffer out, int r, int prev,
      int h) {
    int a0 = r * 4 * h;
    int c0 = r * h;
    int p0 = prev * h;
    int j = 0;
    for (int bound = Lanes.bound(h); j < bound; j += Lanes.N) {
      FloatVector i = sigmoid(Lanes.load(a, a0 + j));
      FloatVector f = sigmoid(Lanes.load(a, a0 + h + j));
      FloatVector g = tanh(Lanes.load(a, a0 + 2 * h + j));
      FloatVector o = sigmoid(Lanes.load(a, a0 + 3 * h + j));
      Lanes.store(i, a, a0 + j);
      Lanes.store(f, a, a0 + h + j);
      Lanes.store(g, a, a0 + 2 * h + j);
      Lanes.store(o, a, a0 + 3 * h + j);
      FloatVector cv = i.mul(g);
      if (prev >= 0) {
        cv = cv.add(f.mul(Lanes.load(c, p0 + j)));
      }
      FloatVector tv = tanh(cv);
      Lanes.store(cv, c, c0 + j);
      Lanes.store(tv, tc, c0 + j);
      Lanes.store(o.mul(tv), out, c0 + j);
    }
    for (; j < h; j++) {
      float i = sigmoid(a.getFloat((a0 + j) * 4));
      float f = sigmoid(a.getFloat((a0 + h + j) * 4));
      float g = tanh(a.getFloat((a0 + 2 * h + j) * 4));
      float o = sigmoid(a.getFloat((a0 + 3 * h + j) * 4));
      a.putFloat((a0 + j) * 4, i);
      a.putFloat((a0 + h + j) * 4, f);
      a.putFloat((a0 + 2 * h + j) * 4, g);
      a.putFloat((a0 + 3 * h + j) * 4, o);
      float cv = i * g;
      if (prev >= 0) {
        cv = cv + f * c.getFloat((p0 + j) * 4);
      }
      float tv = tanh(cv);
      c.putFloat((c0 + j) * 4, cv);
      tc.putFloat((c0 + j) * 4, tv);
      out.putFloat((c0 + j) * 4, o * tv);
    }
  }

  /**
   * Backward of step t, for steps run from T-1 down to 0: writes the step's pre-activation gate
   * gradients and carries the cell-state gradient to step t-1.
   *
   * @param dgates [T*B, 4H] step t overwritten with the gradients of i, f, g, o before their nonlinearity
   * @param dcNext [B, H] in: dc_{t+1} f_{t+1} (read when t < T-1); out: dc_t f_t (written when t > 0)
   * @param dh     [B, H] dgates_{t+1} w_hh^T, the gradient reaching h_t through the recurrence (read when t < T-1)
   * @param dout   [T*B, H] gradient of h_t from above, step t read
   * @param act    [T*B, 4H] gate activations from forward
   * @param c      [T*B, H] cell states from forward (step t-1 read)
   * @param tanhC  [T*B, H] tanh(c_t) from forward
   * @param t      the step
   * @param steps  T
   * @param batch  B
   */
  public static void backward(INDArray dgates, INDArray dcNext, INDArray dh, INDArray dout, INDArray act,
      INDArray c, INDArray tanhC, int t, int steps, int batch) {
    int h = (int) c.size(1);
    ByteBuffer dg = Fused.floats(dgates);
    ByteBuffer dcn = Fused.floats(dcNext);
    ByteBuffer dhr = Fused.floats(dh);
    ByteBuffer dy = Fused.floats(dout);
    ByteBuffer a = Fused.floats(act);
    ByteBuffer cb = Fused.floats(c);
    ByteBuffer tc = Fused.floats(tanhC);
    boolean last = t == steps - 1;
    Parallel.forChunks(batch, rowsPerChunk(h), (from, to) -> {
      for (int b = from; b < to; b++) {
        backwardRow(dg, dcn, dhr, dy, a, cb, tc, b, t, batch, h, last);
      }
    });
  }

  private static void backwardRow(ByteBuffer dgates, ByteBuffer dcNext, ByteBuffer dhRec, ByteBuffer dout,
      ByteBuffer a, ByteBuffer c, ByteBuffer tc, int b, int t, int batch, int h, boolean last) {
    int r = t * batch + b;
    int a0 = r * 4 * h;
    int c0 = r * h;
    int p0 = (r - batch) * h; // step t-1, used only when t > 0
    int s0 = b * h; // the [B, H] scratch rows
    boolean first = t == 0;
    int j = 0;
    for (int bound = Lanes.bound(h); j < bound; j += Lanes.N) {
      FloatVector dhv = Lanes.load(dout, c0 + j);
      if (!last) {
        dhv = Lanes.load(dhRec, s0 + j).add(dhv);
      }
      FloatVector i = Lanes.load(a, a0 + j);
      FloatVector f = Lanes.load(a, a0 + h + j);
      FloatVector g = Lanes.load(a, a0 + 2 * h + j);
      FloatVector o = Lanes.load(a, a0 + 3 * h + j);
      FloatVector tv = Lanes.load(tc, c0 + j);
      FloatVector dc = dhv.mul(tv.mul(tv).neg().add(1f).mul(o));
      if (!last) {
        dc = dc.add(Lanes.load(dcNext, s0 + j));
      }
      Lanes.store(dc.mul(g).mul(i.sub(i.mul(i))), dgates, a0 + j);
      if (first) {
        Lanes.store(FloatVector.zero(Lanes.FLOATS), dgates, a0 + h + j);
      } else {
        Lanes.store(dc.mul(Lanes.load(c, p0 + j)).mul(f.sub(f.mul(f))), dgates, a0 + h + j);
        Lanes.store(dc.mul(f), dcNext, s0 + j);
      }
      Lanes.store(dc.mul(i).mul(g.mul(g).neg().add(1f)), dgates, a0 + 2 * h + j);
      Lanes.store(dhv.mul(tv).mul(o.sub(o.mul(o))), dgates, a0 + 3 * h + j);
    }
    for (; j < h; j++) {
      float dhv = dout.getFloat((c0 + j) * 4);
      if (!last) {
        dhv = dhRec.getFloat((s0 + j) * 4) + dhv;
      }
      float i = a.getFloat((a0 + j) * 4);
      float f = a.getFloat((a0 + h + j) * 4);
      float g = a.getFloat((a0 + 2 * h + j) * 4);
      float o = a.getFloat((a0 + 3 * h + j) * 4);
      float tv = tc.getFloat((c0 + j) * 4);
      float dc = dhv * ((-(tv * tv) + 1f) * o);
      if (!last) {
        dc = dc + dcNext.getFloat((s0 + j) * 4);
      }
      dgates.putFloat((a0 + j) * 4, dc * g * (i - i * i));
      if (first) {
        dgates.putFloat((a0 + h + j) * 4, 0f);
      } else {
        dgates.putFloat((a0 + h + j) * 4, dc * c.getFloat((p0 + j) * 4) * (f - f * f));
        dcNext.putFloat((s0 + j) * 4, dc * f);
      }
      dgates.putFloat((a0 + 2 * h + j) * 4, dc * i * (-(g * g) + 1f));
      dgates.putFloat((a0 + 3 * h + j) * 4, dhv * tv * (o - o * o));
    }
  }

  private static int rowsPerChunk(int h) {
    return Math.max(1, CHUNK / Math.max(1, h));
  }

  /** 1 / (1 + e^-x) per lane. */
  static FloatVector sigmoid(FloatVector x) {
    return ONE.div(Lanes.exp(x.neg()).add(1f));
  }

  /** 1 / (1 + e^-x), the same bits as a lane of {@link #sigmoid(FloatVector)}. */
  static float sigmoid(float x) {
    return 1f / (Lanes.exp(-x) + 1f);
  }

  /**
   * tanh per lane: {@code sign(x) (1 - e) / (1 + e)} with {@code e = e^(-2|x|)}, and its Taylor
   * series to x^7 below |x| = 1/8 (truncation error under 2e-10 relative there). Absolute error
   * ~1e-7; tanh(+-inf) = +-1.
   */
  static FloatVector tanh(FloatVector x) {
    FloatVector ax = x.abs();
    FloatVector e = Lanes.exp(ax.mul(-2f));
    FloatVector big = ONE.sub(e).div(e.add(1f));
    big = big.blend(big.neg(), x.lt(0f));
    FloatVector x2 = x.mul(x);
    FloatVector poly = x2.mul(T7).add(T5).mul(x2).add(T3);
    FloatVector small = x.mul(x2).mul(poly).add(x);
    VectorMask<Float> useSeries = ax.lt(TANH_SERIES);
    return big.blend(small, useSeries);
  }

  /** tanh, the same bits as a lane of {@link #tanh(FloatVector)}. */
  static float tanh(float x) {
    float ax = Math.abs(x);
    if (ax < TANH_SERIES) {
      float x2 = x * x;
      float poly = (x2 * T7 + T5) * x2 + T3;
      return x * x2 * poly + x;
    }
    float e = Lanes.exp(ax * -2f);
    float big = (1f - e) / (e + 1f);
    return x < 0f ? -big : big;
  }
}
