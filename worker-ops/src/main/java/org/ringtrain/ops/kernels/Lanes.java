/*
 * Lanes: the Vector API species, the load/store helpers every fused kernel uses, and the
 * operations whose Vector API forms are not reproducible or not fast here: a lane sum and exp.
 * Only classes that run behind Fused.AVAILABLE touch it, so a JVM without jdk.incubator.vector
 * never loads it.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float vectors of the CPU's preferred width, over the native-order buffers of the arrays
 * (streaming kernels: GELU backward, AdamW, layer norm) or over Java float arrays that a kernel
 * copies rows into ({@link Scratch}; the attention softmax, whose short rows ran ~2x faster that
 * way on Java 17, and GELU forward, whose exp and two buffer stores did not fit one C2
 * compilation). Which of the two a kernel uses was measured, not assumed.
 *
 * <p>Reproducibility: the Vector API's {@code reduceLanes(ADD)} may add lanes in any order, and
 * its {@code EXP} is a different approximation when compiled (a vector math library) than when
 * interpreted (per-lane Math.exp), so a kernel's bits would depend on how far the JIT got. The
 * kernels therefore use {@link #sum} (lanes added in index order) and {@link #exp} (only IEEE
 * add, multiply and bit operations), and the scalar {@link #exp(float)} for loop tails gives the
 * same bits as a lane of the vector one. A maximum is exact, so {@code reduceLanes(MAX)} is used.
 */
final class Lanes {

  // Species must be static final constants: the JIT only intrinsifies vector code whose shape it
  // can see as a constant (non-final species ran ~10x slower, docs/benchmarks.md, bf16 codec).
  static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  /** Floats per vector: 16 with AVX-512, 8 with AVX2. */
  static final int N = FLOATS.length();
  static final ByteOrder ORDER = ByteOrder.nativeOrder();

  // exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2], with Cephes'
  // expf polynomial for exp(r) (relative error ~1e-7, http://www.netlib.org/cephes/).
  /** ln(Float.MAX_VALUE): exp of more is +inf. */
  static final float EXP_HI = 88.72284f;
  /** exp of less (below 1.8e-38, near the smallest normal float) is 0 here: it keeps n >= -125. */
  static final float EXP_LO = -86.98f;
  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f; // 9 significant bits: n * LN2_HI is exact
  private static final float LN2_LO = -2.12194440e-4f;
  /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer in the low bits. */
  private static final float ROUND = 12582912f;
  private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
  private static final float P0 = 1.9875691500e-4f;
  private static final float P1 = 1.3981999507e-3f;
  private static final float P2 = 8.3334519073e-3f;
  private static final float P3 = 4.1665795894e-2f;
  private static final float P4 = 1.6666665459e-1f;
  private static final float P5 = 5.0000001201e-1f;

  private Lanes() {
  }

  /** The vector of floats {@code i .. i + N - 1} of {@code b}. */
  static FloatVector load(ByteBuffer b, int i) {
    return FloatVector.fromByteBuffer(FLOATS, b, i * 4, ORDER);
  }

  /** Stores {@code v} at floats {@code i .. i + N - 1} of {@code b}. */
  static void store(FloatVector v, ByteBuffer b, int i) {
    v.intoByteBuffer(b, i * 4, ORDER);
  }

  /** The vector of {@code a[i .. i + N - 1]}. */
  static FloatVector load(float[] a, int i) {
    return FloatVector.fromArray(FLOATS, a, i);
  }

  /** Stores {@code v} into {@code a[i .. i + N - 1]}. */
  static void store(FloatVector v, float[] a, int i) {
    v.intoArray(a, i);
  }

  /** The largest multiple of {@link #N} not above {@code count}: where the scalar tail starts. */
  static int bound(int count) {
    return FLOATS.loopBound(count);
  }

  /** The sum of the lanes of {@code v}, added in lane order (reproducible, unlike reduceLanes). */
  static float sum(FloatVector v) {
    float s = v.lane(0);
    for (int j = 1; j < N; j++) {
      s += v.lane(j);
    }
    return s;
  }

  /** The largest lane of {@code v}. */
  static float max(FloatVector v) {
    return v.reduceLanes(VectorOperators.MAX);
  }

  /** e^x per lane: 0 below {@link #EXP_LO}, +inf above {@link #EXP_HI}, NaN for NaN. */
  static FloatVector exp(FloatVector x) {
    // No clamp before the arithmetic (a float max/min costs as much as the polynomial here): lanes
    // out of range compute garbage, which the two blends at the end replace.
    FloatVector shifted = x.mul(LOG2E).add(ROUND);
    FloatVector n = shifted.sub(ROUND);
    FloatVector r = x.sub(n.mul(LN2_HI)).sub(n.mul(LN2_LO));
    FloatVector p = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5)
        .mul(r.mul(r)).add(r).add(1f);
    // n sits in the low bits of shifted. 2^(n-1) is (n + 126) << 23 as float bits, a normal float
    // for n in [-125, 128]; times 2 (exact) gives 2^n, which itself has no float form at n = 128.
    IntVector pow2 = ((IntVector) shifted.reinterpretAsInts()).sub(ROUND_BITS - 126)
        .lanewise(VectorOperators.LSHL, 23);
    FloatVector y = p.mul(pow2.reinterpretAsFloats()).mul(2f);
    VectorMask<Float> under = x.lt(EXP_LO);
    VectorMask<Float> over = x.compare(VectorOperators.GT, EXP_HI);
    return y.blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
  }

  /** e^x, the same bits as a lane of {@link #exp(FloatVector)}. */
  static float exp(float x) {
    if (x < EXP_LO) {
      return 0f;
    }
    if (x > EXP_HI) {
      return Float.POSITIVE_INFINITY;
    }
    float shifted = x * LOG2E + ROUND;
    float n = shifted - ROUND;
    float r = x - n * LN2_HI - n * LN2_LO;
    float p = ((((((r * P0 + P1) * r + P2) * r + P3) * r + P4) * r + P5) * (r * r) + r) + 1f;
    return p * Float.intBitsToFloat((Float.floatToRawIntBits(shifted) - (ROUND_BITS - 126)) << 23) * 2f;
  }
}
