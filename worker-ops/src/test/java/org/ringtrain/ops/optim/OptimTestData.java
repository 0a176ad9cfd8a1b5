/*
 * OptimTestData: small layouts and seeded buffers shared by the optimizer tests. Test-only; no
 * assertions of its own.
 */
package org.ringtrain.ops.optim;

import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterLayout;

final class OptimTestData {

  private OptimTestData() {
  }

  /** A one-block GPT-2 layout of 300 elements: V=8, T=4, C=4, L=1, NH=2. */
  static ParameterLayout tinyLayout() {
    return GptModel.layout(new ModelConfig(8, 4, 4, 1, 2, 0.0));
  }

  /** A two-block layout with more elements than one I/O chunk, to cross chunk boundaries. */
  static ParameterLayout chunkCrossingLayout() {
    return GptModel.layout(new ModelConfig(2048, 16, 160, 2, 2, 0.0));
  }

  /** A flat float32 buffer of {@code n} seeded Gaussian values times {@code scale}. */
  static INDArray gaussian(long n, long seed, double scale) {
    Random random = new Random(seed);
    float[] values = new float[Math.toIntExact(n)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return Nd4j.createFromArray(values);
  }

  /** The buffer's values as a Java array. */
  static float[] values(INDArray flat) {
    return flat.toFloatVector();
  }

  /** Index of the first element whose raw bits differ, or -1 when the buffers are bitwise equal. */
  static int firstBitDifference(INDArray a, INDArray b) {
    float[] x = a.toFloatVector();
    float[] y = b.toFloatVector();
    if (x.length != y.length) {
      return 0;
    }
    for (int i = 0; i < x.length; i++) {
      if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
        return i;
      }
    }
    return -1;
  }
}
