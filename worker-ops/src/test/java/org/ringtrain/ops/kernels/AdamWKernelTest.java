/*
 * Tests of AdamWKernel: one step against the formula in float64 with decay ranges that cross
 * chunk boundaries, the same bits on any thread count, and the scalar tail equal to the vector
 * lanes. Test code only; AdamW's own tests cover the optimizer around it.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertSameBits;
import static org.ringtrain.ops.kernels.KernelTestSupport.f32;
import static org.ringtrain.ops.kernels.KernelTestSupport.randn;
import static org.ringtrain.ops.kernels.KernelTestSupport.withThreads;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.SingleThreadedNd4j;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdamWKernelTest {

  private static final int P = 3 * AdamWKernel.CHUNK + 37;
  private static final long[] STARTS = {10, AdamWKernel.CHUNK - 5, 2L * AdamWKernel.CHUNK + 100};
  private static final long[] ENDS = {20, 2L * AdamWKernel.CHUNK + 3, P};
  private static final AdamWKernel.Scalars S = new AdamWKernel.Scalars(0.9f, 0.95f, 0.9997f, 0.004f, 3.1f, 1e-8f);

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static boolean decays(long i) {
    for (int r = 0; r < STARTS.length; r++) {
      if (i >= STARTS[r] && i < ENDS[r]) {
        return true;
      }
    }
    return false;
  }

  /** {params, m, v} after one step from the given state. */
  private static INDArray[] step(INDArray p0, INDArray g, INDArray m0, INDArray v0) {
    INDArray p = f32(p0);
    INDArray m = f32(m0);
    INDArray v = f32(v0);
    AdamWKernel.step(p, f32(g), m, v, STARTS, ENDS, S);
    return new INDArray[] {p, m, v};
  }

  @Test
  void matchesTheFormulaWithDecayRangesAcrossChunks() {
    INDArray p0 = randn(1, 0, 0.02, P);
    INDArray g = randn(2, 0, 0.01, P);
    INDArray m0 = randn(3, 0, 0.001, P);
    INDArray v0 = randn(4, 0, 0.001, P).muli(randn(4, 0, 0.001, P)); // >= 0
    INDArray[] got = step(p0, g, m0, v0);
    for (int i = 0; i < P; i++) {
      double gi = (float) g.getDouble(i);
      double m = 0.9 * (float) m0.getDouble(i) + 0.1 * gi;
      double v = 0.95 * (float) v0.getDouble(i) + 0.05 * gi * gi;
      double decayed = (float) p0.getDouble(i) * (decays(i) ? 0.9997 : 1.0);
      double update = 0.004 * m / (Math.sqrt(v) * 3.1 + 1e-8);
      // Float32 hyper-parameters (0.9f, 1 - 0.9f) are off by up to 2.4e-7 relative, so each sum is
      // checked to 1e-6 of the size of its terms.
      double mTerms = 0.9 * Math.abs(m0.getDouble(i)) + 0.1 * Math.abs(gi);
      assertEquals(m, got[1].getFloat(i), 1e-6 * mTerms, "m at " + i);
      assertEquals(v, got[2].getFloat(i), 1e-6 * (0.95 * Math.abs(v0.getDouble(i)) + 0.05 * gi * gi), "v at " + i);
      double pTol = 1e-6 * (Math.abs(decayed) + Math.abs(update) * (1 + mTerms / Math.abs(m)));
      assertEquals(decayed - update, got[0].getFloat(i), pTol, "param at " + i + " (decays: " + decays(i) + ")");
    }
  }

  @Test
  void givesTheSameBitsOnAnyThreadCount() {
    INDArray p0 = randn(5, 0, 0.02, P);
    INDArray g = randn(6, 0, 0.01, P);
    INDArray m0 = randn(7, 0, 0.001, P);
    INDArray v0 = randn(8, 0, 0.001, P).muli(randn(9, 0, 0.001, P));
    INDArray[][] results = new INDArray[2][];
    withThreads(1, () -> results[0] = step(p0, g, m0, v0));
    withThreads(3, () -> results[1] = step(p0, g, m0, v0));
    for (int i = 0; i < 3; i++) {
      assertSameBits("result " + i, results[0][i], results[1][i]);
    }
  }

  @Test
  void theScalarTailGivesTheBitsOfTheVectorLanes() {
    int n = Lanes.N + 3; // one vector, then three elements in the scalar loop
    INDArray p = Nd4j.valueArrayOf(new long[] {n}, 0.0123f, DataType.FLOAT);
    INDArray g = Nd4j.valueArrayOf(new long[] {n}, -0.00731f, DataType.FLOAT);
    INDArray m = Nd4j.valueArrayOf(new long[] {n}, 0.00042f, DataType.FLOAT);
    INDArray v = Nd4j.valueArrayOf(new long[] {n}, 0.0000917f, DataType.FLOAT);
    AdamWKernel.step(p, g, m, v, new long[] {0}, new long[] {n}, S);
    for (int i = 1; i < n; i++) {
      assertEquals(Float.floatToRawIntBits(p.getFloat(0)), Float.floatToRawIntBits(p.getFloat(i)), "param " + i);
      assertEquals(Float.floatToRawIntBits(m.getFloat(0)), Float.floatToRawIntBits(m.getFloat(i)), "m " + i);
      assertEquals(Float.floatToRawIntBits(v.getFloat(0)), Float.floatToRawIntBits(v.getFloat(i)), "v " + i);
    }
  }
}
