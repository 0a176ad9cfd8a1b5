/*
 * Tests of Int8Matrix: the scheme's round trip on random matrices with the per-channel error
 * bound checked element by element, both channel axes, zero channels and refused input. Test
 * code only.
 */
package org.ringtrain.ops.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Int8MatrixTest {

  /** Random weights whose channels differ in magnitude by up to 1000x, as trained layers do. */
  static float[] randomWeights(long seed, int rows, int cols, Int8Matrix.Axis axis) {
    Random r = new Random(seed);
    int channels = axis == Int8Matrix.Axis.COLUMNS ? cols : rows;
    double[] spread = new double[channels];
    for (int c = 0; c < channels; c++) {
      spread[c] = Math.pow(10, -3 + 3 * r.nextDouble());
    }
    float[] w = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        w[i * cols + j] = (float) (r.nextGaussian() * spread[axis == Int8Matrix.Axis.COLUMNS ? j : i]);
      }
    }
    return w;
  }

  @Test
  void roundTripErrorIsAtMostHalfAScaleInEveryChannel() {
    int[][] shapes = {{64, 192}, {37, 5}, {1, 1}, {256, 48}};
    for (Int8Matrix.Axis axis : Int8Matrix.Axis.values()) {
      for (int[] s : shapes) {
        float[] w = randomWeights(s[0] * 31L + s[1], s[0], s[1], axis);
        Int8Matrix m = Int8Matrix.quantize(w, s[0], s[1], axis);
        float[] back = m.dequantize();
        for (int i = 0; i < s[0]; i++) {
          for (int j = 0; j < s[1]; j++) {
            float scale = m.scaleOf(i, j);
            int at = i * s[1] + j;
            // The bound: |w - q * scale| <= scale / 2, plus one float32 rounding of the product.
            double bound = scale / 2 + Math.ulp(Math.abs(w[at]));
            double err = Math.abs(w[at] - back[at]);
            assertTrue(err <= bound, axis + " " + s[0] + "x" + s[1] + " [" + i + ", " + j + "]: |w - deq(q(w))| = "
                + err + " > scale/2 = " + (scale / 2) + " (w " + w[at] + ", q " + m.q()[at] + ")");
            assertTrue(Math.abs(m.q()[at]) <= Int8Matrix.QMAX, "q " + m.q()[at] + " outside [-127, 127]");
          }
        }
      }
    }
  }

  @Test
  void theLargestWeightOfAChannelMapsTo127Exactly() {
    float[] w = {0.5f, -2f, 0.25f, 1f};
    Int8Matrix m = Int8Matrix.quantize(w, 2, 2, Int8Matrix.Axis.COLUMNS);
    assertEquals(0.5f / 127, m.scale()[0]);
    assertEquals(2f / 127, m.scale()[1]);
    assertEquals(127, m.q()[0]);
    assertEquals(-127, m.q()[1]);
    assertEquals(-2f, m.dequantize()[1], 1e-7);
  }

  @Test
  void aChannelOfZerosGetsScaleZeroAndDequantisesToZeros() {
    float[] w = {0f, 3f, 0f, -1f};
    Int8Matrix m = Int8Matrix.quantize(w, 2, 2, Int8Matrix.Axis.COLUMNS);
    assertEquals(0f, m.scale()[0]);
    assertEquals(0f, m.dequantize()[0]);
    assertEquals(0f, m.dequantize()[2]);
  }

  @Test
  void nonFiniteWeightsAndWrongSizesAreRefused() {
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> Int8Matrix.quantize(new float[] {1f, Float.NaN}, 1, 2, Int8Matrix.Axis.COLUMNS));
    assertTrue(nan.getMessage().contains("weight [0, 1] is NaN"), nan.getMessage());
    IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
        () -> Int8Matrix.quantize(new float[3], 2, 2, Int8Matrix.Axis.ROWS));
    assertTrue(size.getMessage().contains("expected 4 weights for [2, 2], but found 3"), size.getMessage());
  }
}
