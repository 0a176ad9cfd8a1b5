/*
 * GeluKernel: GPT-2's tanh-approximation GELU forward and backward in float32, one pass over
 * memory each. The maths (and the float64 path) is Gelu's in org.ringtrain.ops.layers; this class
 * is only the fast float loop.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code out = x * s}, {@code s = sigmoid(2u)}, {@code 2u = 2k (x + 0.044715 x^3)}, and
 * {@code dinp = dout * (s + x * s (1 - s) * 2k (1 + 3 * 0.044715 x^2))}, element-wise.
 */
public final class GeluKernel {

  /** Elements per chunk of work: 64 KiB of each array. */
  static final int CHUNK = 16 * 1024;
  private static final float TWO_K = (float) (2 * Math.sqrt(2.0 / Math.PI));
  private static final float TWO_K_CUBIC = (float) (2 * Math.sqrt(2.0 / Math.PI) * 0.044715);
  private static final FloatVector ONE = FloatVector.broadcast(Lanes.FLOATS, 1f);
  private static final float TWO_K_CUBIC3 = (float) (2 * Math.sqrt(2.0 / Math.PI) * 3 * 0.044715);

  private GeluKernel() {
  }

  /**
   * Forward pass, as Gelu.forward: reads {@code inp}, writes {@code out} and {@code sig}.
   *
   * @param out [N, D] overwritten
   * @param sig [N, D] overwritten with sigmoid(2u), saved for backward
   * @param inp [N, D]
   */
  public static void forward(INDArray out, INDArray sig, INDArray inp) {
    int count = (int) inp.length();
    ByteBuffer o = Fused.floats(out);
    ByteBuffer s = Fused.floats(sig);
    ByteBuffer x = Fused.floats(inp);
    Parallel.forChunks(count, CHUNK, (from, to) -> forwardRange(o, s, x, from, to));
  }

  private static void forwardRange(ByteBuffer o, ByteBuffer s, ByteBuffer x, int from, int to) {
    int i = from;
    for (int bound = from + Lanes.bound(to - from); i < bound; i += Lanes.N) {
      FloatVector xv = Lanes.load(x, i);
      FloatVector twoU = xv.mul(xv).mul(TWO_K_CUBIC).add(TWO_K).mul(xv);
      FloatVector sv = ONE.div(Lanes.exp(twoU.neg()).add(1f));
      Lanes.store(sv, s, i);
      Lanes.store(xv.mul(sv), o, i);
    }
    for (; i < to; i++) {
      float xv = x.getFloat(i * 4);
      float twoU = (xv * xv * TWO_K_CUBIC + TWO_K) * xv;
      float sv = 1f / (Lanes.exp(-twoU) + 1f);
      s.putFloat(i * 4, sv);
      o.putFloat(i * 4, xv * sv);
    }
  }

  /**
   * Backward pass, as Gelu.backward: overwrites {@code dinp}.
   *
   * @param dinp [N, D] overwritten
   * @param dout [N, D]
   * @param inp  [N, D] the forward input
   * @param sig  [N, D] from forward
   */
  public static void backward(INDArray dinp, INDArray dout, INDArray inp, INDArray sig) {
    int count = (int) inp.length();
    ByteBuffer dx = Fused.floats(dinp);
    ByteBuffer dy = Fused.floats(dout);
    ByteBuffer x = Fused.floats(inp);
    ByteBuffer s = Fused.floats(sig);
    Parallel.forChunks(count, CHUNK, (from, to) -> backwardRange(dx, dy, x, s, from, to));
  }

  private static void backwardRange(ByteBuffer dx, ByteBuffer dy, ByteBuffer x, ByteBuffer s, int from, int to) {
    int i = from;
    for (int bound = from + Lanes.bound(to - from); i < bound; i += Lanes.N) {
      FloatVector xv = Lanes.load(x, i);
      FloatVector sv = Lanes.load(s, i);
      FloatVector slope = xv.mul(xv).mul(TWO_K_CUBIC3).add(TWO_K).mul(xv); // x * 2u'(x)
      FloatVector grad = sv.neg().add(1f).mul(sv).mul(slope).add(sv); // s + x 2u' s (1 - s)
      Lanes.store(grad.mul(Lanes.load(dy, i)), dx, i);
    }
    for (; i < to; i++) {
      float xv = x.getFloat(i * 4);
      float sv = s.getFloat(i * 4);
      float slope = (xv * xv * TWO_K_CUBIC3 + TWO_K) * xv;
      dx.putFloat(i * 4, ((1f - sv) * sv * slope + sv) * dy.getFloat(i * 4));
    }
  }
}
