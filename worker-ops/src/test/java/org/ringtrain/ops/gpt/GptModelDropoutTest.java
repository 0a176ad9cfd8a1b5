/*
 * Tests of GptModel's dropout: finite differences with fixed masks, recomputation that changes no
 * bit, two half batches that equal one full batch (the data-parallel equivalence), masks that
 * change with the step and the sample, and p = 0 or an evaluation forward that is exactly the
 * model without dropout. Test code only.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.gpt.GptModelTest.randomTokens;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.transformer.DropoutKey;

class GptModelDropoutTest {

  private static final long SEED = 1234;
  private static final ModelConfig CONFIG = new ModelConfig(32, 16, 16, 2, 2, 0.1);

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static int[] range(int from, int count) {
    int[] s = new int[count];
    Arrays.setAll(s, i -> from + i);
    return s;
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void gradientsWithDropoutMatchFiniteDifferencesWithTheMasksFixed() {
    // A high p so that every site drops something in this small batch.
    ModelConfig config = new ModelConfig(11, 8, 8, 2, 2, 0.3);
    int b = 2;
    int t = 5;
    try (GptModel model = new GptModel(config, DataType.DOUBLE)) {
      GptModelTest.initialisePerturbed(model, config.layers());
      int[] inputs = randomTokens(1, b * t, config.vocabSize());
      int[] targets = randomTokens(2, b * t, config.vocabSize());
      DropoutKey key = new DropoutKey(SEED, 3, new int[] {17, 4});
      model.zeroGrad();
      double withDropout = model.forward(inputs, targets, b, t, key);
      model.backward();
      assertNotEquals(model.forward(inputs, targets, b, t), withDropout, "dropout changes the loss");
      GradCheck check = new GradCheck();
      for (ParameterLayout.TensorSpec spec : model.layout().tensors()) {
        check.check(spec.name(), model.params().view(spec.name()), model.grads().view(spec.name()),
            () -> model.forward(inputs, targets, b, t, key), 12); // the same key: the same masks
      }
      assertTrue(check.passed(), check.report());
    }
  }

  /** The float bits of loss and gradients after one forward/backward with dropout. */
  private static float[] lossAndGrads(boolean recompute, int[] in, int[] tg, int b, int t, DropoutKey key) {
    try (GptModel model = GptModel.initialised(CONFIG, 5)) {
      model.setRecompute(recompute);
      model.zeroGrad();
      float loss = (float) model.forward(in, tg, b, t, key);
      model.backward();
      float[] grads = model.grads().flat().toFloatVector();
      float[] out = Arrays.copyOf(grads, grads.length + 1);
      out[grads.length] = loss;
      return out;
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void recomputationReproducesTheMasksBitForBit() {
    int b = 3;
    int t = 16;
    int[] in = randomTokens(1, b * t, 32);
    int[] tg = randomTokens(2, b * t, 32);
    DropoutKey key = new DropoutKey(SEED, 7, new int[] {40, 2, 13});
    assertArrayEquals(lossAndGrads(false, in, tg, b, t, key), lossAndGrads(true, in, tg, b, t, key),
        "loss and every gradient bit with recomputation on and off");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void twoHalfBatchesEqualOneFullBatchOfTheSameSamples() {
    int b = 4;
    int t = 16;
    int n = b * t;
    int half = n / 2;
    int[] in = randomTokens(1, n, 32);
    int[] tg = randomTokens(2, n, 32);
    int[] samples = {9, 3, 30, 1};
    try (GptModel model = GptModel.initialised(CONFIG, 5)) {
      model.zeroGrad();
      double full = model.forward(in, tg, b, t, new DropoutKey(SEED, 2, samples));
      model.backward();
      INDArray fullGrads = model.grads().flat().dup();
      // Rank 0 and rank 1 of a 2-rank run: each half with its own samples' indices, averaged.
      model.zeroGrad();
      double first = model.forward(Arrays.copyOf(in, half), Arrays.copyOf(tg, half), b / 2, t,
          new DropoutKey(SEED, 2, Arrays.copyOf(samples, 2)));
      model.backward();
      double second = model.forward(Arrays.copyOfRange(in, half, n), Arrays.copyOfRange(tg, half, n), b / 2, t,
          new DropoutKey(SEED, 2, Arrays.copyOfRange(samples, 2, 4)));
      model.backward();
      INDArray halves = model.grads().flat().mul(0.5);
      assertEquals(full, (first + second) / 2, 1e-5, "loss");
      double scale = fullGrads.amaxNumber().doubleValue();
      double diff = halves.sub(fullGrads).amaxNumber().doubleValue();
      assertTrue(diff <= 1e-5 * scale, "largest gradient difference " + diff + " of " + scale);
    }
  }

  /** The logits [B*T, V] of one forward of the CONFIG model. */
  private static INDArray logits(GptModel model, int[] in, int b, DropoutKey key) {
    model.forward(in, null, b, in.length / b, key);
    return model.logits().dup();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void masksDifferBetweenStepsAndSamplesAndFollowTheSampleAcrossRows() {
    int t = 16;
    int[] row = randomTokens(3, t, 32);
    int[] twice = new int[2 * t];
    System.arraycopy(row, 0, twice, 0, t);
    System.arraycopy(row, 0, twice, t, t);
    try (GptModel model = GptModel.initialised(CONFIG, 5)) {
      INDArray base = logits(model, row, 1, new DropoutKey(SEED, 0, new int[] {6}));
      assertNotEquals(base, logits(model, row, 1, new DropoutKey(SEED, 1, new int[] {6})), "another step");
      assertNotEquals(base, logits(model, row, 1, new DropoutKey(SEED, 0, new int[] {7})), "another sample");
      INDArray pair = logits(model, twice, 2, new DropoutKey(SEED, 0, new int[] {7, 6}));
      assertNotEquals(pair.getRows(range(0, t)), pair.getRows(range(t, t)), "two samples, two masks");
      assertEquals(base, pair.getRows(range(t, t)), "sample 6 gets its mask in batch row 1 as in row 0");
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void zeroDropoutAndEvaluationForwardsAreExactlyTheModelWithoutDropout() {
    int b = 2;
    int t = 16;
    int[] in = randomTokens(1, b * t, 32);
    int[] tg = randomTokens(2, b * t, 32);
    ModelConfig none = new ModelConfig(32, 16, 16, 2, 2, 0);
    DropoutKey key = new DropoutKey(SEED, 0, new int[] {0, 1});
    try (GptModel zero = GptModel.initialised(none, 5); GptModel dropping = GptModel.initialised(CONFIG, 5)) {
      double plain = zero.forward(in, tg, b, t);
      zero.backward();
      float[] plainGrads = zero.grads().flat().toFloatVector();
      zero.zeroGrad();
      assertEquals(plain, zero.forward(in, tg, b, t, key), 0.0, "p = 0 with a key: the same loss bits");
      zero.backward();
      assertArrayEquals(plainGrads, zero.grads().flat().toFloatVector(), "p = 0 with a key: the same gradients");
      assertEquals(plain, dropping.forward(in, tg, b, t), 0.0, "an evaluation forward never drops");
      assertNotEquals(plain, dropping.forward(in, tg, b, t, key), "a training forward does");
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void floatModelAgreesWithDoubleModelUnderTheSameMasks() {
    int b = 3;
    int t = 16;
    try (GptModel f = GptModel.initialised(CONFIG, 4); GptModel d = new GptModel(CONFIG, DataType.DOUBLE)) {
      GptModel.initialise(d.params(), CONFIG.layers(), 4);
      int[] in = randomTokens(5, b * t, 32);
      int[] tg = randomTokens(6, b * t, 32);
      DropoutKey key = new DropoutKey(SEED, 11, new int[] {3, 1, 4});
      assertEquals(d.forward(in, tg, b, t, key), f.forward(in, tg, b, t, key), 1e-5);
      f.backward();
      d.backward();
      INDArray diff = f.grads().flat().castTo(DataType.DOUBLE).sub(d.grads().flat());
      double scale = d.grads().flat().amaxNumber().doubleValue();
      assertTrue(diff.amaxNumber().doubleValue() < 1e-4 * scale, "max grad diff " + diff.amaxNumber() + " of " + scale);
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void aKeyWithTheWrongNumberOfSamplesIsRefused() {
    try (GptModel model = GptModel.initialised(CONFIG, 5)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> model.forward(new int[32], new int[32], 2, 16, new DropoutKey(SEED, 0, new int[] {1})));
      assertTrue(e.getMessage().contains("expected 2, but found 1"), e.getMessage());
    }
  }
}
