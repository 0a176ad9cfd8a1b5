/*
 * KernelTestSupport: fixtures for the fused-kernel tests (seeded random arrays in both float
 * types, the largest difference between two arrays, running with a given thread count). Test
 * code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.param.SplitMix64;

/** Kernels are checked in float32 against the layers' ND4J compositions in float64. */
final class KernelTestSupport {

  private KernelTestSupport() {
  }

  /** A [shape] float64 array of N(mean, std) values from {@code seed}. */
  static INDArray randn(long seed, double mean, double std, long... shape) {
    INDArray a = Nd4j.create(DataType.DOUBLE, shape);
    SplitMix64 rng = new SplitMix64(seed);
    for (long i = 0; i < a.length(); i++) {
      a.putScalar(i, mean + std * rng.nextGaussian());
    }
    return a;
  }

  /** A float32 copy of {@code a}. */
  static INDArray f32(INDArray a) {
    return a.castTo(DataType.FLOAT);
  }

  /** A float64 copy of {@code a}. */
  static INDArray f64(INDArray a) {
    return a.castTo(DataType.DOUBLE);
  }

  /**
   * Asserts {@code |got - want| <= tol * (1 + |want|)} element-wise and reports the largest
   * difference with its index.
   */
  static void assertClose(String name, INDArray want, INDArray got, double tol) {
    assertEquals(want.length(), got.length(), name + ": length");
    INDArray w = want.castTo(DataType.DOUBLE).reshape(want.length());
    INDArray g = got.castTo(DataType.DOUBLE).reshape(got.length());
    double worst = 0;
    long at = -1;
    for (long i = 0; i < w.length(); i++) {
      double err = Math.abs(g.getDouble(i) - w.getDouble(i)) / (1 + Math.abs(w.getDouble(i)));
      if (!(err <= worst)) {
        worst = err;
        at = i;
      }
    }
    assertTrue(worst <= tol, name + ": largest relative difference " + worst + " at index " + at + " (want "
        + (at < 0 ? "-" : w.getDouble(at)) + ", got " + (at < 0 ? "-" : g.getDouble(at)) + "), tolerance " + tol);
  }

  /** Asserts that two float32 arrays are equal bit for bit. */
  static void assertSameBits(String name, INDArray want, INDArray got) {
    float[] w = want.reshape(want.length()).toFloatVector();
    float[] g = got.reshape(got.length()).toFloatVector();
    assertEquals(w.length, g.length, name + ": length");
    for (int i = 0; i < w.length; i++) {
      assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(g[i]), name + ": bits differ at " + i);
    }
  }

  /** Runs {@code body} with the BLAS thread count (which the kernels follow) set to {@code threads}. */
  static void withThreads(int threads, Runnable body) {
    int before = Nd4j.factory().blas().getMaxThreads();
    Nd4j.factory().blas().setMaxThreads(threads);
    try {
      body.run();
    } finally {
      Nd4j.factory().blas().setMaxThreads(before);
    }
  }
}
