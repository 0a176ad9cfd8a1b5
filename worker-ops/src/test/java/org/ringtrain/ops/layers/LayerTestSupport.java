/*
 * LayerTestSupport: small fixtures for the layer tests (random float64 arrays, a fixed random
 * projection as the scalar objective). Test code only.
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.param.SplitMix64;

/** Deterministic float64 test arrays. */
final class LayerTestSupport {

  private LayerTestSupport() {
  }

  /** A [shape] float64 array of N(0, std) values from {@code seed}. */
  static INDArray randn(long seed, double std, long... shape) {
    INDArray a = Nd4j.create(DataType.DOUBLE, shape);
    SplitMix64 rng = new SplitMix64(seed);
    for (long i = 0; i < a.length(); i++) {
      a.putScalar(i, std * rng.nextGaussian());
    }
    return a;
  }

  /** {@code sum(out * r)}: the objective whose gradient with respect to out is r. */
  static double project(INDArray out, INDArray r) {
    return out.mul(r).sumNumber().doubleValue();
  }
}
