/*
 * BatchDecoderTest: a batched step over sequences at different positions gives each row the logits
 * that decoding it alone gives (the row independence a server's same-seed promise rests on), in
 * float32 (the fused attention kernel) and float64 (attention row by row in ND4J); a sequence
 * decoded alone gets the Generator's bits; bad steps are refused. It does not test sampling.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BatchDecoderTest {
  private static final ModelConfig CONFIG = new ModelConfig(40, 12, 16, 2, 4, 0);
  private static final double TOLERANCE = 1e-5;

  /** Logits [len][V] after each token of {@code seq}, decoded alone by the plain Generator. */
  private static float[][] alone(GptModel model, int[] seq) {
    float[][] out = new float[seq.length][];
    try (Generator g = new Generator(model, 1)) {
      for (int t = 0; t < seq.length; t++) {
        out[t] = g.step(new int[] {seq[t]}).getRow(0).toFloatVector();
      }
    }
    return out;
  }

  private static void assertClose(float[] expected, INDArray actualRow, String what) {
    float[] actual = actualRow.toFloatVector();
    double worst = 0;
    for (int v = 0; v < expected.length; v++) {
      worst = Math.max(worst, Math.abs(expected[v] - actual[v]));
    }
    assertTrue(worst <= TOLERANCE, what + ": max |batched - alone| = " + worst + " > " + TOLERANCE);
  }

  private static GptModel model(DataType type, long seed) {
    GptModel m = new GptModel(CONFIG, type);
    GptModel.initialise(m.params(), CONFIG.layers(), seed);
    return m;
  }

  @Test
  void rowsAtDifferentPositionsMatchDecodingAlone() {
    rowsAtDifferentPositionsMatchDecodingAlone(DataType.FLOAT);
    rowsAtDifferentPositionsMatchDecodingAlone(DataType.DOUBLE);
  }

  private static void rowsAtDifferentPositionsMatchDecodingAlone(DataType type) {
    int[] a = {1, 2, 3, 4, 5, 6};
    int[] b = {7, 8, 9};
    int[] c = {11, 12};
    try (GptModel model = model(type, 42); BatchDecoder decoder = new BatchDecoder(model, 3);
         DecodeSlot sa = decoder.newSlot(a.length); DecodeSlot sb = decoder.newSlot(8); DecodeSlot sc = decoder.newSlot(2)) {
      float[][] ea = alone(model, a);
      float[][] eb = alone(model, b);
      float[][] ec = alone(model, c);
      // a starts alone; b joins at a's position 2, c at a's position 4 (and leaves with b after it).
      for (int t = 0; t < 2; t++) {
        assertClose(ea[t], decoder.step(new int[] {a[t]}, new DecodeSlot[] {sa}, 1).getRow(0), "a alone, t " + t);
      }
      for (int t = 2; t < 4; t++) {
        INDArray logits = decoder.step(new int[] {a[t], b[t - 2]}, new DecodeSlot[] {sa, sb}, 2);
        assertClose(ea[t], logits.getRow(0), "a beside b, t " + t);
        assertClose(eb[t - 2], logits.getRow(1), "b beside a, t " + (t - 2));
      }
      for (int t = 4; t < 6; t++) {
        INDArray logits = decoder.step(new int[] {c[t - 4], a[t], b[2]}, new DecodeSlot[] {sc, sa, sb}, t == 4 ? 3 : 2);
        assertClose(ec[t - 4], logits.getRow(0), "c, t " + (t - 4));
        assertClose(ea[t], logits.getRow(1), "a beside c, t " + t);
        if (t == 4) {
          assertClose(eb[2], logits.getRow(2), "b, t 2");
        }
      }
      assertEquals(6, sa.position());
      assertEquals(3, sb.position());
    }
  }

  @Test
  void aSequenceDecodedAloneGetsTheGeneratorsBits() {
    int[] seq = {3, 1, 4, 1, 5, 9, 2, 6};
    try (GptModel model = model(DataType.FLOAT, 7); BatchDecoder decoder = new BatchDecoder(model, 4);
         DecodeSlot slot = decoder.newSlot(seq.length)) {
      float[][] expected = alone(model, seq);
      for (int t = 0; t < seq.length; t++) {
        float[] got = decoder.step(new int[] {seq[t]}, new DecodeSlot[] {slot}, 1).getRow(0).toFloatVector();
        for (int v = 0; v < got.length; v++) {
          assertEquals(Float.floatToRawIntBits(expected[t][v]), Float.floatToRawIntBits(got[v]),
              "position " + t + ", logit " + v + ": " + expected[t][v] + " alone, " + got[v] + " batched");
        }
      }
    }
  }

  @Test
  void refusesAFullSlotAndTooManyRows() {
    try (GptModel model = GptModel.initialised(CONFIG, 1); BatchDecoder decoder = new BatchDecoder(model, 1);
         DecodeSlot slot = decoder.newSlot(1)) {
      decoder.step(new int[] {1}, new DecodeSlot[] {slot}, 1);
      IllegalStateException full = assertThrows(IllegalStateException.class,
          () -> decoder.step(new int[] {1}, new DecodeSlot[] {slot}, 1));
      assertTrue(full.getMessage().contains("KV cache is full"), full.getMessage());
      IllegalArgumentException rows = assertThrows(IllegalArgumentException.class,
          () -> decoder.step(new int[] {1, 2}, new DecodeSlot[] {slot, slot}, 2));
      assertTrue(rows.getMessage().contains("1 to 1 rows"), rows.getMessage());
      assertThrows(IllegalArgumentException.class, () -> decoder.newSlot(CONFIG.contextLength() + 1));
    }
    try (GptModel model = GptModel.initialised(CONFIG, 1); BatchDecoder decoder = new BatchDecoder(model, 2);
         DecodeSlot slot = decoder.newSlot(4)) {
      IllegalArgumentException shared = assertThrows(IllegalArgumentException.class,
          () -> decoder.step(new int[] {1, 2}, new DecodeSlot[] {slot, slot}, 2));
      assertTrue(shared.getMessage().contains("rows 0 and 1 share one"), shared.getMessage());
    }
  }
}
