/*
 * Tests of Int8Matmul: on both paths, the product with int8 weights equals ND4J's float32 matmul
 * with the dequantised weights within float tolerance, for linear weights and the tied head, at
 * one row (decoding) and several, with sizes that do not fill a vector block. Test code only.
 */
package org.ringtrain.ops.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Int8MatmulTest {

  /** Relative tolerance: float32 sums of K products in another order differ by ~K * 2^-24 of their magnitude. */
  private static final double TOLERANCE = 1e-5;

  private static INDArray randomRows(long seed, int rows, int cols) {
    Random r = new Random(seed);
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Nd4j.createFromArray(v).reshape(rows, cols);
  }

  private static void assertClose(INDArray expected, INDArray actual, String what) {
    double scale = Math.max(1, expected.amaxNumber().doubleValue());
    double worst = expected.sub(actual).amaxNumber().doubleValue();
    assertTrue(worst <= TOLERANCE * scale, what + ": max |int8 matmul - float matmul of deq(w)| = " + worst
        + " > " + (TOLERANCE * scale));
  }

  @Test
  void linearEqualsTheFloatMatmulOfTheDequantisedWeightsOnBothPaths() {
    int[][] shapes = {{1, 384, 1152}, {3, 96, 37}, {8, 130, 200}, {70, 64, 72}};
    for (Int8Matmul.Path path : Int8Matmul.Path.values()) {
      try (Int8Matmul mm = new Int8Matmul(path)) {
        for (int[] s : shapes) {
          int rows = s[0];
          int k = s[1];
          int n = s[2];
          Int8Matrix w = Int8Matrix.quantize(Int8MatrixTest.randomWeights(k + n, k, n, Int8Matrix.Axis.COLUMNS), k, n,
              Int8Matrix.Axis.COLUMNS);
          float[] bias = randomRows(n, 1, n).toFloatVector();
          INDArray inp = randomRows(rows, rows, k);
          INDArray expected = inp.mmul(Nd4j.createFromArray(w.dequantize()).reshape(k, n))
              .addRowVector(Nd4j.createFromArray(bias));
          INDArray out = Nd4j.create(DataType.FLOAT, rows, n);
          mm.linear(out, inp, w, bias);
          assertClose(expected, out, path + " linear " + rows + "x" + k + "x" + n);
          mm.linear(out, inp, w, null);
          assertClose(inp.mmul(Nd4j.createFromArray(w.dequantize()).reshape(k, n)), out, path + " no bias");
        }
      }
    }
  }

  @Test
  void headEqualsTheFloatMatmulWithTheDequantisedTableTransposed() {
    try (Int8Matmul mm = new Int8Matmul(Int8Matmul.Path.VECTOR)) {
      for (int[] s : new int[][] {{1, 50, 40}, {5, 256, 384}, {2, 33, 19}}) {
        int rows = s[0];
        int v = s[1];
        int c = s[2];
        Int8Matrix w = Int8Matrix.quantize(Int8MatrixTest.randomWeights(v * c, v, c, Int8Matrix.Axis.ROWS), v, c,
            Int8Matrix.Axis.ROWS);
        INDArray inp = randomRows(c, rows, c);
        INDArray expected = inp.mmul(Nd4j.createFromArray(w.dequantize()).reshape(v, c).transpose());
        INDArray out = Nd4j.create(DataType.FLOAT, rows, v);
        mm.head(out, inp, w);
        assertClose(expected, out, "head " + rows + "x" + c + "x" + v);
      }
    }
  }
}
