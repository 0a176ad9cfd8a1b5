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

  // The chunk is copied into this thread's float arrays and computed there, in two vector loops of
  // their own methods and a scalar tail: one loop over the off-heap buffers ran 3-5x slower on
  // Java 17, because its exp and two buffer stores exceed the node budget of one C2 compilation
  // (NodeCountInliningCutoff), so the stores were not inlined and every vector was boxed.
  private static void forwardRange(ByteBuffer o, ByteBuffer s, ByteBuffer x, int from, int to) {
    int len = to - from;
    float[] xs = Scratch.floats(0, len);
    float[] ss = Scratch.floats(1, len);
    float[] os = Scratch.floats(2, len);
    x.asFloatBuffer().get(from, xs, 0, len);
    int bound = Lanes.bound(len);
    sigmoids(ss, xs, bound);
    products(os, xs, ss, bound);
    for (int i = bound; i < len; i++) {
      float xv = xs[i];
      float twoU = (xv * xv * TWO_K_CUBIC + TWO_K) * xv;
      float sv = 1f / (Lanes.exp(-twoU) + 1f);
      ss[i] = sv;
      os[i] = xv * sv;
    }
    s.asFloatBuffer().put(from, ss, 0, len);
    o.asFloatBuffer().put(from, os, 0, len);
  }

  /** {@code s[i] = sigmoid(2u(x[i]))} for {@code i < bound}, a multiple of the vector length. */
  private static void sigmoids(float[] s, float[] x, int bound) {
    for (int i = 0; i < bound; i += Lanes.N) {
      FloatVector xv = FloatVector.fromArray(Lanes.FLOATS, x, i);
      FloatVector twoU = xv.mul(xv).mul(TWO_K_CUBIC).add(TWO_K).mul(xv);
      ONE.div(Lanes.exp(twoU.neg()).add(1f)).intoArray(s, i);
    }
  }

  /** {@code o[i] = x[i] * s[i]} for {@code i < bound}, a multiple of the vector length. */
  private static void products(float[] o, float[] x, float[] s, int bound) {
    for (int i = 0; i < bound; i += Lanes.N) {
      FloatVector.fromArray(Lanes.FLOATS, x, i).mul(FloatVector.fromArray(Lanes.FLOATS, s, i)).intoArray(o, i);
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
