/*
 * Tests of ChunkedLmHead through GptModel: the head computed in chunks of positions gives the loss
 * and every gradient of the one-chunk head within 4e-6 in float32 and 1e-12 in float64 (chunk
 * sizes that do and do not divide B*T, ignored targets), holds 2 R V floats, and refuses logits() it does not hold. Test
 * code only.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChunkedLmHeadTest {

  private static final ModelConfig CONFIG = new ModelConfig(40, 16, 32, 2, 4, 0);
  private static final int B = 3;
  private static final int T = 16; // B*T = 48 positions

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /** One forward and backward; returns {loss, gradients...} as doubles, the loss first. */
  private static double[] step(DataType type, int chunkRows, boolean recompute, int[] targets) {
    int[] inputs = GptModelTest.randomTokens(5, B * T, CONFIG.vocabSize());
    try (GptModel model = new GptModel(CONFIG, type)) {
      GptModel.initialise(model.params(), CONFIG.layers(), 17);
      model.params().flat().muli(5); // larger logits, so the softmax is far from uniform
      model.setRecompute(recompute);
      if (chunkRows > 0) {
        model.setHeadChunkRows(chunkRows);
      }
      double loss = model.forward(inputs, targets, B, T);
      model.backward();
      double[] g = model.grads().flat().toDoubleVector();
      double[] out = new double[g.length + 1];
      out[0] = loss;
      System.arraycopy(g, 0, out, 1, g.length);
      return out;
    }
  }

  private static int[] targets(boolean someIgnored) {
    int[] t = GptModelTest.randomTokens(9, B * T, CONFIG.vocabSize());
    if (someIgnored) {
      for (int i = 0; i < t.length; i += 5) {
        t[i] = -1;
      }
    }
    return t;
  }

  /**
   * Asserts the loss and each tensor's gradient within {@code tolerance} relative to the largest
   * magnitude (at least 1) of the one-chunk values, reporting the maximum difference per tensor.
   * Not bit for bit: BLAS picks its kernels by the matrix shape, so a gemm over 7 rows may round a
   * row differently than one over 48.
   */
  private static void assertSame(double[] expected, double[] got, double tolerance, String what) {
    assertTrue(Math.abs(expected[0] - got[0]) <= tolerance * Math.max(1, Math.abs(expected[0])),
        what + ": loss " + got[0] + " instead of " + expected[0]);
    ParameterLayout layout = GptModel.layout(CONFIG);
    for (ParameterLayout.TensorSpec spec : layout.tensors()) {
      double worst = 0;
      double scale = 1;
      for (long i = spec.offset(); i < spec.offset() + spec.length(); i++) {
        worst = Math.max(worst, Math.abs(expected[(int) i + 1] - got[(int) i + 1]));
        scale = Math.max(scale, Math.abs(expected[(int) i + 1]));
      }
      assertTrue(worst <= tolerance * scale, what + ": " + spec.name() + " max |chunked - one chunk| = " + worst
          + " > " + tolerance + " x " + scale);
    }
  }

  /**
   * Float32 resolves 6e-8 of a value; wte's gradient sums 48 rows of products whose terms cancel
   * (measured: 2.3e-6 at a largest gradient of 2.3 when the sum is split in 3), so a few ulps of the
   * largest gradient, not 1e-6 of it.
   */
  private static final double FLOAT32_TOLERANCE = 4e-6;

  @Test
  void chunkedLossAndGradientsEqualTheOneChunkHeadInFloat32() {
    for (boolean ignored : new boolean[] {false, true}) {
      int[] targets = targets(ignored);
      double[] whole = step(DataType.FLOAT, B * T, false, targets);
      for (int rows : new int[] {1, 7, 16, 47}) {
        assertSame(whole, step(DataType.FLOAT, rows, false, targets), FLOAT32_TOLERANCE,
            "float32, chunks of " + rows + ", ignored targets " + ignored);
      }
      assertSame(whole, step(DataType.FLOAT, 7, true, targets), FLOAT32_TOLERANCE, "float32, chunks of 7 with recomputation");
    }
  }

  @Test
  void chunkedLossAndGradientsEqualTheOneChunkHeadInFloat64() {
    int[] targets = targets(true);
    double[] whole = step(DataType.DOUBLE, B * T, false, targets);
    for (int rows : new int[] {5, 48, 100}) {
      assertSame(whole, step(DataType.DOUBLE, rows, false, targets), 1e-12, "float64, chunks of " + rows);
    }
  }

  @Test
  void theDefaultChunkIsTheWholeBatchForASmallVocabulary() {
    double[] byDefault = step(DataType.FLOAT, 0, false, targets(false));
    double[] whole = step(DataType.FLOAT, B * T, false, targets(false));
    assertSame(whole, byDefault, 0.0, "default chunk");
    assertEquals(8192, GptModel.defaultHeadChunkRows(256, 4) / 4);
    assertEquals(166, GptModel.defaultHeadChunkRows(50257, 4));
  }

  @Test
  void everyTargetIgnoredGivesZeroLossAndNoHeadGradient() {
    int[] none = new int[B * T];
    java.util.Arrays.fill(none, -1);
    double[] whole = step(DataType.FLOAT, B * T, false, none);
    double[] chunked = step(DataType.FLOAT, 7, false, none);
    assertEquals(0.0, whole[0]);
    assertSame(whole, chunked, 0.0, "all ignored");
  }

  @Test
  void theHeadHoldsTwoChunksOfLogitsAndRefusesLogitsItDoesNotHold() {
    int[] inputs = GptModelTest.randomTokens(5, B * T, CONFIG.vocabSize());
    try (GptModel model = GptModel.initialised(CONFIG, 3)) {
      model.forward(inputs, targets(false), B, T);
      long whole = model.activationBytes();
      assertEquals(B * T * CONFIG.vocabSize(), model.logits().length());
      model.setHeadChunkRows(7);
      model.forward(inputs, targets(false), B, T);
      assertEquals(whole - 2L * (B * T - 7) * CONFIG.vocabSize() * Float.BYTES, model.activationBytes(),
          "two [R, V] arrays instead of two [B*T, V]");
      IllegalStateException e = assertThrows(IllegalStateException.class, model::logits);
      assertTrue(e.getMessage().contains("chunks of 7 rows") && e.getMessage().contains("setHeadChunkRows"),
          e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> model.setHeadChunkRows(0));
    }
  }
}
