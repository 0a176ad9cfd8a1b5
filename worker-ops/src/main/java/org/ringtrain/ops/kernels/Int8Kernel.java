/*
 * Int8Kernel: float32 rows times int8 weights with the Vector API, each int8 lane widened to
 * float in registers and scaled per output channel once at the end, so the weights are read as
 * one byte each and never dequantised into memory. Heap arrays in, heap arrays out; it does not
 * quantise, choose threads or touch ND4J (ops.quant.Int8Matmul does).
 */
package org.ringtrain.ops.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Two products of {@code x} [R, K] with int8 {@code q} and per-channel {@code scale}:
 * <ul>
 *   <li>{@link #columns}: {@code y[r, j] = scale[j] * sum_k x[r, k] q[k, j] + bias[j]}, q [K, N]
 *       (a linear weight, channels are columns). Each block of 4 vectors of columns keeps its
 *       sums in registers over all K, reading q's rows with stride N.</li>
 *   <li>{@link #rowDots}: {@code y[r, v] = scale[v] * dot(x[r, :], q[v, :])}, q [V, C] (the tied
 *       LM head on an int8 embedding table, channels are rows).</li>
 * </ul>
 * Callers split the channel range over threads; each call computes {@code [from, to)}. Loaded only
 * behind {@link Fused#AVAILABLE}.
 */
public final class Int8Kernel {

  private static final VectorSpecies<Float> F = Lanes.FLOATS;
  private static final int L = Lanes.N;
  // As many bytes as the float species has lanes: one load widens to one float vector.
  private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * Byte.SIZE));
  /** Columns one register block covers: 4 vectors. */
  public static final int BLOCK = 4 * L;

  private Int8Kernel() {
  }

  private static FloatVector widen(byte[] q, int at) {
    return (FloatVector) ByteVector.fromArray(B, q, at).convertShape(VectorOperators.B2F, F, 0);
  }

  /**
   * Columns {@code [from, to)} of {@code y} [R, N]; see the class comment. {@code from} must be a
   * multiple of {@link #BLOCK}.
   *
   * @param bias [N], or null for none
   */
  public static void columns(float[] y, float[] x, byte[] q, float[] scale, float[] bias, int rows, int k, int n,
      int from, int to) {
    int j = from;
    for (; j + BLOCK <= to; j += BLOCK) {
      for (int r = 0; r < rows; r++) {
        int xr = r * k;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0, at = j; i < k; i++, at += n) {
          FloatVector xv = FloatVector.broadcast(F, x[xr + i]);
          a0 = widen(q, at).fma(xv, a0);
          a1 = widen(q, at + L).fma(xv, a1);
          a2 = widen(q, at + 2 * L).fma(xv, a2);
          a3 = widen(q, at + 3 * L).fma(xv, a3);
        }
        store(y, r * n + j, a0, scale, bias, j);
        store(y, r * n + j + L, a1, scale, bias, j + L);
        store(y, r * n + j + 2 * L, a2, scale, bias, j + 2 * L);
        store(y, r * n + j + 3 * L, a3, scale, bias, j + 3 * L);
      }
    }
    for (; j + L <= to; j += L) {
      for (int r = 0; r < rows; r++) {
        FloatVector a = FloatVector.zero(F);
        for (int i = 0, at = j; i < k; i++, at += n) {
          a = widen(q, at).fma(FloatVector.broadcast(F, x[r * k + i]), a);
        }
        store(y, r * n + j, a, scale, bias, j);
      }
    }
    for (; j < to; j++) {
      for (int r = 0; r < rows; r++) {
        float a = 0;
        for (int i = 0; i < k; i++) {
          a += x[r * k + i] * q[i * n + j];
        }
        y[r * n + j] = a * scale[j] + (bias == null ? 0 : bias[j]);
      }
    }
  }

  private static void store(float[] y, int at, FloatVector sum, float[] scale, float[] bias, int j) {
    FloatVector out = sum.mul(FloatVector.fromArray(F, scale, j));
    if (bias != null) {
      out = out.add(FloatVector.fromArray(F, bias, j));
    }
    out.intoArray(y, at);
  }

  /**
   * Channels {@code [from, to)} of {@code y} [R, V] as scaled dot products of x's rows with q's
   * rows; see the class comment.
   */
  public static void rowDots(float[] y, float[] x, byte[] q, float[] scale, int rows, int c, int v, int from,
      int to) {
    int bound = c - c % L;
    for (int ch = from; ch < to; ch++) {
      int qr = ch * c;
      for (int r = 0; r < rows; r++) {
        int xr = r * c;
        FloatVector a = FloatVector.zero(F);
        int i = 0;
        for (; i < bound; i += L) {
          a = widen(q, qr + i).fma(FloatVector.fromArray(F, x, xr + i), a);
        }
        float s = a.reduceLanes(VectorOperators.ADD);
        for (; i < c; i++) {
          s += x[xr + i] * q[qr + i];
        }
        y[r * v + ch] = s * scale[ch];
      }
    }
  }
}
