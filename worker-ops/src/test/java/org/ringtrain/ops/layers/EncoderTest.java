/*
 * Tests of Encoder: embedding rows, and backward with repeated tokens against finite differences. Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.layers.LayerTestSupport.project;
import static org.ringtrain.ops.layers.LayerTestSupport.randn;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EncoderTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static final int B = 2;
  private static final int T = 3;
  private static final int V = 5;
  private static final int C = 4;
  private static final int MAX_T = 6;
  /** Repeated tokens on purpose: their embedding gradients must add up. */
  private static final int[] TOKENS = {1, 1, 4, 0, 1, 4};

  @Test
  void forwardAddsTokenAndPositionRows() {
    INDArray wte = randn(1, 1, V, C);
    INDArray wpe = randn(2, 1, MAX_T, C);
    INDArray out = Nd4j.create(DataType.DOUBLE, B * T, C);
    Encoder.forward(out, Nd4j.createFromArray(TOKENS), wte, wpe, B, T, 2);
    for (int i = 0; i < B * T; i++) {
      INDArray expected = wte.getRow(TOKENS[i]).add(wpe.getRow(2 + i % T));
      assertEquals(0.0, out.getRow(i).sub(expected).amaxNumber().doubleValue(), 1e-15, "row " + i);
    }
  }

  @Test
  void backwardMatchesFiniteDifferences() {
    INDArray wte = randn(1, 1, V, C);
    INDArray wpe = randn(2, 1, MAX_T, C);
    INDArray r = randn(3, 1, B * T, C);
    INDArray tokens = Nd4j.createFromArray(TOKENS);
    INDArray out = Nd4j.create(DataType.DOUBLE, B * T, C);
    INDArray dwte = Nd4j.zeros(DataType.DOUBLE, V, C);
    INDArray dwpe = Nd4j.zeros(DataType.DOUBLE, MAX_T, C);
    Encoder.backward(dwte, dwpe, r, tokens, Nd4j.ones(DataType.DOUBLE, 1, B * T), B, T);
    GradCheck check = new GradCheck();
    java.util.function.DoubleSupplier f = () -> {
      Encoder.forward(out, tokens, wte, wpe, B, T, 0);
      return project(out, r);
    };
    check.check("wte", wte, dwte, f, 100);
    check.check("wpe", wpe, dwpe, f, 100);
    assertTrue(check.passed(), check.report());
  }
}
