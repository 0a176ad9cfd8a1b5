/*
 * AdamWKernel: one AdamW step over the flat float32 buffers in one pass (decoupled decay, both
 * moments and the update, element by element). The hyper-parameters, bias corrections and
 * semantics are AdamW's (org.ringtrain.ops.optim); this class is only the fast loop.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per element, in float32 and in this order:
 * <pre>
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   p = p * decay                              (decay = 1 - lr * wd inside the decay ranges, else 1)
 *   p = p - (m * stepSize) / (sqrt(v) * invSqrtBc2 + eps)
 * </pre>
 * Only IEEE-exact operations (multiply, add, divide, square root; no fused multiply-add), so every
 * CPU, vector width and thread count gives the same bits: ranks that apply the same all-reduced
 * gradients stay bitwise equal, as FlatOps guarantees for the ND4J path.
 */
public final class AdamWKernel {

  /** Elements per chunk of work: 256 KiB of each of the four buffers. */
  static final int CHUNK = 64 * 1024;

  private AdamWKernel() {
  }

  /** The step's scalars; see the class comment for where each enters. */
  public record Scalars(float beta1, float beta2, float decay, float stepSize, float invSqrtBc2, float eps) {
  }

  /**
   * One step, in place on {@code params}, {@code m} and {@code v}.
   *
   * @param params      [P] updated
   * @param grads       [P]
   * @param m           [P] first moment, updated
   * @param v           [P] second moment, updated
   * @param decayStarts sorted starts of the element ranges where weight decay applies
   * @param decayEnds   their (exclusive) ends
   * @param s           the step's scalars
   */
  public static void step(INDArray params, INDArray grads, INDArray m, INDArray v, long[] decayStarts,
      long[] decayEnds, Scalars s) {
    int count = (int) params.length();
    ByteBuffer p = Fused.floats(params);
    ByteBuffer g = Fused.floats(grads);
    ByteBuffer m1 = Fused.floats(m);
    ByteBuffer m2 = Fused.floats(v);
    Parallel.forChunks(count, CHUNK, (from, to) -> {
      // Split the chunk where decay switches on or off.
      int range = firstRangeEndingAfter(decayEnds, from);
      int pos = from;
      while (pos < to) {
        long end = to;
        boolean inRange = false;
        if (range < decayStarts.length) {
          inRange = decayStarts[range] <= pos;
          end = Math.min(to, inRange ? decayEnds[range] : decayStarts[range]);
        }
        update(p, g, m1, m2, pos, (int) end, s, inRange ? s.decay() : 1f);
        pos = (int) end;
        if (inRange && pos == decayEnds[range]) {
          range++;
        }
      }
    });
  }

  /** The index of the first range whose end is after {@code pos} (ranges.length when none). */
  private static int firstRangeEndingAfter(long[] ends, long pos) {
    int lo = 0;
    int hi = ends.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ends[mid] <= pos) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static void update(ByteBuffer p, ByteBuffer g, ByteBuffer m1, ByteBuffer m2, int from, int to, Scalars s,
      float decay) {
    float b1 = s.beta1();
    float b2 = s.beta2();
    float c1 = 1f - b1;
    float c2 = 1f - b2;
    int i = from;
    for (int bound = from + Lanes.bound(to - from); i < bound; i += Lanes.N) {
      FloatVector gv = Lanes.load(g, i);
      FloatVector mv = Lanes.load(m1, i).mul(b1).add(gv.mul(c1));
      FloatVector vv = Lanes.load(m2, i).mul(b2).add(gv.mul(gv).mul(c2));
      FloatVector denom = vv.lanewise(VectorOperators.SQRT).mul(s.invSqrtBc2()).add(s.eps());
      FloatVector pv = Lanes.load(p, i).mul(decay).sub(mv.mul(s.stepSize()).div(denom));
      Lanes.store(mv, m1, i);
      Lanes.store(vv, m2, i);
      Lanes.store(pv, p, i);
    }
    for (; i < to; i++) {
      float gi = g.getFloat(i * 4);
      float mi = m1.getFloat(i * 4) * b1 + gi * c1;
      float vi = m2.getFloat(i * 4) * b2 + gi * gi * c2;
      float denom = (float) Math.sqrt(vi) * s.invSqrtBc2() + s.eps();
      m1.putFloat(i * 4, mi);
      m2.putFloat(i * 4, vi);
      p.putFloat(i * 4, p.getFloat(i * 4) * decay - mi * s.stepSize() / denom);
    }
  }
}
