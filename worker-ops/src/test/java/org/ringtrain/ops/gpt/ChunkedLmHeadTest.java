/*
 * Tests of ChunkedLmHead through GptModel: the head computed in chunks of positions gives the loss
 * and every gradient of the one-chunk head bit for bit, in float32 and float64, for chunks that
 * split samples and the batch unevenly (with ignored targets and with recomputation); it holds
 * 2 R V floats, refuses chunk sizes that are not whole tiles and logits() it does not hold. Test
 * code only.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChunkedLmHeadTest {

  private static final ModelConfig CONFIG = new ModelConfig(40, 128, 32, 2, 4, 0);
  private static final int B = 3;
  private static final int T = 100; // B*T = 300 positions: tiles of 128, 128 and 44 rows
  private static final int TILE = GptModel.HEAD_TILE_ROWS;

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
   * Asserts the loss and every gradient bit for bit, naming the first tensor and index that
   * differ and by how much.
   */
  private static void assertIdentical(double[] expected, double[] got, String what) {
    assertEquals(Double.doubleToRawLongBits(expected[0]), Double.doubleToRawLongBits(got[0]),
        what + ": loss " + got[0] + " instead of " + expected[0]);
    for (ParameterLayout.TensorSpec spec : GptModel.layout(CONFIG).tensors()) {
      for (long i = spec.offset(); i < spec.offset() + spec.length(); i++) {
        double e = expected[(int) i + 1];
        double g = got[(int) i + 1];
        if (Double.doubleToRawLongBits(e) != Double.doubleToRawLongBits(g)) {
          fail(what + ": " + spec.name() + "[" + (i - spec.offset()) + "] = " + g + " instead of " + e
              + " (difference " + (g - e) + ")");
        }
      }
    }
  }

  @Test
  void chunkedLossAndGradientsAreTheOneChunkHeadsBitForBitInFloat32() {
    for (boolean ignored : new boolean[] {false, true}) {
      int[] targets = targets(ignored);
      double[] whole = step(DataType.FLOAT, 4 * TILE, false, targets);
      for (int rows : new int[] {TILE, 2 * TILE}) { // chunk ends at rows 128 and 256: mid-sample
        assertIdentical(whole, step(DataType.FLOAT, rows, false, targets),
            "float32, chunks of " + rows + ", ignored targets " + ignored);
      }
      assertIdentical(whole, step(DataType.FLOAT, TILE, true, targets),
          "float32, chunks of " + TILE + " with recomputation, ignored targets " + ignored);
    }
  }

  @Test
  void chunkedLossAndGradientsAreTheOneChunkHeadsBitForBitInFloat64() {
    int[] targets = targets(true);
    double[] whole = step(DataType.DOUBLE, 4 * TILE, false, targets);
    assertIdentical(whole, step(DataType.DOUBLE, TILE, false, targets), "float64, chunks of " + TILE);
  }

  @Test
  void theDefaultChunkIsTheWholeBatchForASmallVocabulary() {
    double[] byDefault = step(DataType.FLOAT, 0, false, targets(false));
    double[] whole = step(DataType.FLOAT, 4 * TILE, false, targets(false));
    assertIdentical(whole, byDefault, "default chunk");
    assertEquals(8192, GptModel.defaultHeadChunkRows(256, 4) / 4);
    assertEquals(TILE, GptModel.defaultHeadChunkRows(50257, 4), "166 rows fit in 32 MiB: one whole tile");
  }

  @Test
  void everyTargetIgnoredGivesZeroLossAndNoHeadGradient() {
    int[] none = new int[B * T];
    java.util.Arrays.fill(none, -1);
    double[] whole = step(DataType.FLOAT, 4 * TILE, false, none);
    double[] chunked = step(DataType.FLOAT, TILE, false, none);
    assertEquals(0.0, whole[0]);
    assertIdentical(whole, chunked, "all ignored");
  }

  @Test
  void theHeadHoldsTwoChunksOfLogitsAndRefusesLogitsItDoesNotHold() {
    int[] inputs = GptModelTest.randomTokens(5, B * T, CONFIG.vocabSize());
    try (GptModel model = GptModel.initialised(CONFIG, 3)) {
      model.forward(inputs, targets(false), B, T);
      long whole = model.activationBytes();
      assertEquals(B * T * CONFIG.vocabSize(), model.logits().length());
      model.setHeadChunkRows(TILE);
      model.forward(inputs, targets(false), B, T);
      assertEquals(whole - 2L * (B * T - TILE) * CONFIG.vocabSize() * Float.BYTES, model.activationBytes(),
          "two [R, V] arrays instead of two [B*T, V]");
      IllegalStateException e = assertThrows(IllegalStateException.class, model::logits);
      assertTrue(e.getMessage().contains("chunks of " + TILE + " rows") && e.getMessage().contains("setHeadChunkRows"),
          e.getMessage());
      for (int bad : new int[] {0, 7, TILE + 1}) {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> model.setHeadChunkRows(bad));
        assertTrue(refused.getMessage().contains("multiple of the head's " + TILE + "-row tile, but found " + bad),
            refused.getMessage());
      }
    }
  }
}
