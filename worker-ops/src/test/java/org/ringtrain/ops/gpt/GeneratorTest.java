/*
 * Tests of Generator and Sampling: KV-cache logits equal full-forward logits, greedy and seeded
 * sampling, limits. Test code only.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.param.SplitMix64;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GeneratorTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static final ModelConfig CONFIG = new ModelConfig(40, 12, 16, 2, 4, 0);

  private static GptModel model(DataType type) {
    GptModel m = new GptModel(CONFIG, type);
    GptModel.initialise(m.params(), CONFIG.layers(), 21);
    // Larger weights than the 0.02 init so the logits differ clearly between positions.
    m.params().flat().muli(10);
    return m;
  }

  @Test
  void incrementalLogitsEqualFullForwardLogits() {
    int b = 2;
    int t = 10;
    for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      try (GptModel m = model(type); Generator g = new Generator(m, b)) {
        int[] inputs = GptModelTest.randomTokens(3, b * t, CONFIG.vocabSize());
        m.forward(inputs, null, b, t);
        INDArray full = m.logits().reshape(b, t, CONFIG.vocabSize());
        double scale = full.amaxNumber().doubleValue();
        double worst = 0;
        for (int pos = 0; pos < t; pos++) {
          INDArray step = g.step(new int[] {inputs[pos], inputs[t + pos]});
          INDArray expected = full.get(NDArrayIndex.all(), NDArrayIndex.point(pos), NDArrayIndex.all());
          worst = Math.max(worst, step.sub(expected).amaxNumber().doubleValue());
        }
        double tolerance = (type == DataType.FLOAT ? 1e-5 : 1e-12) * Math.max(1, scale);
        assertTrue(worst <= tolerance, type + ": max |incremental - full| = " + worst + " > " + tolerance
            + " (max |logit| " + scale + ")");
      }
    }
  }

  @Test
  void greedyPicksTheArgmaxOfTheFullForward() {
    try (GptModel m = model(DataType.FLOAT); Generator g = new Generator(m, 1)) {
      int[] prompt = {1, 2, 3};
      int[][] out = g.generate(new int[][] {prompt}, 4, Sampling.greedy(), 0);
      int[] seq = {1, 2, 3, 0, 0, 0, 0};
      for (int n = 0; n < 4; n++) {
        int len = 3 + n;
        m.forward(java.util.Arrays.copyOf(seq, len), null, 1, len);
        double[] row = m.logits().getRow(len - 1).toDoubleVector();
        int best = 0;
        for (int i = 1; i < row.length; i++) {
          best = row[i] > row[best] ? i : best;
        }
        assertEquals(best, out[0][n], "token " + n);
        seq[len] = best;
      }
    }
  }

  @Test
  void samplingIsSeededAndTopKStaysInTheTopK() {
    try (GptModel m = model(DataType.FLOAT); Generator g = new Generator(m, 2)) {
      int[][] prompts = {{5, 6}, {7, 8}};
      Sampling rule = new Sampling(1.5, 3);
      int[][] a = g.generate(prompts, 8, rule, 99);
      int[][] b = g.generate(prompts, 8, rule, 99);
      assertArrayEquals(a[0], b[0]);
      assertArrayEquals(a[1], b[1]);
    }
    SplitMix64 rng = new SplitMix64(1);
    double[] logits = {0.1, 3.0, -2.0, 2.5, 2.9, 0.0};
    Sampling top2 = new Sampling(10.0, 2);
    for (int i = 0; i < 200; i++) {
      int pick = top2.pick(logits, rng);
      assertTrue(pick == 1 || pick == 4, "top-2 sampled index " + pick);
    }
  }

  @Test
  void tooLongGenerationIsRejectedWithTheLimit() {
    try (GptModel m = model(DataType.FLOAT); Generator g = new Generator(m, 1)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> g.generate(new int[][] {{1, 2, 3}}, 10, Sampling.greedy(), 0));
      assertTrue(e.getMessage().contains("contextLength 12"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> new Sampling(-1, 0));
    }
  }
}
