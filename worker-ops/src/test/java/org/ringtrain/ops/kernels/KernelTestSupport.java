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
    long length = 1;
    for (long d : shape) {
      length *= d;
    }
    double[] values = new double[(int) length];
    SplitMix64 rng = new SplitMix64(seed);
    for (int i = 0; i < values.length; i++) {
      values[i] = mean + std * rng.nextGaussian();
    }
    return Nd4j.create(values, shape, DataType.DOUBLE); // row-major: element i is the i-th drawn
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
    double[] w = want.castTo(DataType.DOUBLE).reshape(want.length()).toDoubleVector();
    double[] g = got.castTo(DataType.DOUBLE).reshape(got.length()).toDoubleVector();
    double worst = 0;
    int at = -1;
    for (int i = 0; i < w.length; i++) {
      double err = Math.abs(g[i] - w[i]) / (1 + Math.abs(w[i]));
      if (!(err <= worst)) {
        worst = err;
        at = i;
      }
    }
    assertTrue(worst <= tol, name + ": largest relative difference " + worst + " at index " + at + " (want "
        + (at < 0 ? "-" : w[at]) + ", got " + (at < 0 ? "-" : g[at]) + "), tolerance " + tol);
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
