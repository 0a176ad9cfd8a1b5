/*
 * Tests of both SequenceClassifier implementations (Transformer and LSTM), each test run for each
 * architecture: whole-model finite differences in float64, padding and batch invariance, seeded
 * initialisation, learning a toy task with AdamW, input validation, the gradient listener's
 * ranges, and dropout (keyed masks, checked by finite differences). Test code only.
 */
// Why over 300 lines: every case runs both architectures through the same gradient-check and padding helpers.
package org.ringtrain.ops.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.classify.ClassifierConfig.Architecture;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.transformer.DropoutKey;
import org.ringtrain.ops.transformer.TransformerInit;

class SequenceClassifierTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /** V 11, maxLen 5, C 8, L 2, NH 2, K 3: small enough to check every tensor in float64. */
  static ClassifierConfig small(Architecture arch) {
    return new ClassifierConfig(arch, 11, 5, 8, 2, 2, 3);
  }

  /** Three rows of lengths 5, 1 and 3 (maxLen 5), trailing PAD_ID = 0. */
  static final int[] TOKENS = {
      3, 7, 10, 2, 5,
      4, 0, 0, 0, 0,
      9, 1, 6, 0, 0};
  static final int[] LABELS = {2, 0, 1};

  @ParameterizedTest
  @EnumSource(Architecture.class)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void gradientsOfEveryTensorMatchFiniteDifferences(Architecture arch) {
    ClassifierConfig config = small(arch);
    try (SequenceClassifier model = SequenceClassifier.create(config, DataType.DOUBLE)) {
      ClassifierInit.initialise(model.params(), config, 3);
      // Larger, non-uniform values than the init, so every path (LayerNorm scales, gates) carries signal.
      SplitMix64 rng = new SplitMix64(9);
      INDArray flat = model.params().flat();
      for (long i = 0; i < flat.length(); i++) {
        flat.putScalar(i, flat.getDouble(i) + 0.3 * rng.nextGaussian());
      }
      model.zeroGrad();
      model.forward(TOKENS, LABELS, 3);
      model.backward();
      GradCheck check = new GradCheck();
      for (ParameterLayout.TensorSpec spec : model.layout().tensors()) {
        check.check(spec.name(), model.params().view(spec.name()), model.grads().view(spec.name()),
            () -> model.forward(TOKENS, LABELS, 3), 16);
      }
      assertTrue(check.passed(), arch + "\n" + check.report());
      // The embedding rows of tokens that occur: every one of them must get a gradient check, not a sample.
      GradCheck rows = new GradCheck();
      for (int id : new int[] {1, 4, 9}) {
        rows.check("embed.weight[" + id + "]", embedRow(model.params().flat(), id, 8),
            embedRow(model.grads().flat(), id, 8), () -> model.forward(TOKENS, LABELS, 3), 8);
      }
      assertTrue(rows.passed(), arch + "\n" + rows.report());
      assertEquals(0.0, embedRow(model.grads().flat(), SequenceClassifier.PAD_ID, 8).amaxNumber().doubleValue(),
          0.0, "padding never reaches the loss, so its embedding gets no gradient");
    }
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void dropoutIsKeyedSoItsGradientsMatchFiniteDifferencesAndEvaluationIsUntouched(Architecture arch) {
    ClassifierConfig config = small(arch);
    try (SequenceClassifier model = SequenceClassifier.create(config, DataType.DOUBLE)) {
      ClassifierInit.initialise(model.params(), config, 3);
      perturbDouble(model, 0.3, 9);
      double plain = model.forward(TOKENS, LABELS, 3);
      INDArray plainProbs = model.probabilities().dup();
      DropoutKey key = new DropoutKey(5, 2, new int[] {10, 11, 12});
      assertEquals(plain, model.forward(TOKENS, LABELS, 3, 0.0, key), 0.0, "p = 0 is the plain forward");
      assertEquals(plain, model.forward(TOKENS, LABELS, 3, 0.3, null), 0.0, "no key is the plain forward");
      double dropped = model.forward(TOKENS, LABELS, 3, 0.3, key);
      assertTrue(Math.abs(dropped - plain) > 1e-6, arch + ": dropout changes the loss: " + dropped + " vs " + plain);
      assertEquals(dropped, model.forward(TOKENS, LABELS, 3, 0.3, key), 0.0, "the same key, the same masks");
      model.zeroGrad();
      model.backward();
      GradCheck check = new GradCheck();
      for (ParameterLayout.TensorSpec spec : model.layout().tensors()) {
        check.check(spec.name(), model.params().view(spec.name()), model.grads().view(spec.name()),
            () -> model.forward(TOKENS, LABELS, 3, 0.3, key), 8);
      }
      assertTrue(check.passed(), arch + " with dropout 0.3\n" + check.report());
      model.forward(TOKENS, null, 3);
      assertEquals(plainProbs, model.probabilities(), "an evaluation forward after training ones drops nothing");
    }
  }

  private static void perturbDouble(SequenceClassifier model, double std, long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    INDArray flat = model.params().flat();
    for (long i = 0; i < flat.length(); i++) {
      flat.putScalar(i, flat.getDouble(i) + std * rng.nextGaussian());
    }
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aRowsProbabilitiesDoNotDependOnItsPaddingOrOnTheOtherRows(Architecture arch) {
    ClassifierConfig config = small(arch);
    try (SequenceClassifier model = SequenceClassifier.initialised(config, 5)) {
      perturb(model, 0.5, 17); // away from the near-uniform init, so rows differ clearly
      model.forward(TOKENS, null, 3);
      float[][] batched = model.probabilities().toFloatMatrix();
      // Another embedding for PAD_ID: padded positions must not matter at all.
      INDArray padRow = model.params().view("embed.weight").getRow(SequenceClassifier.PAD_ID);
      padRow.assign(7.0);
      model.forward(TOKENS, null, 3);
      float[][] newPad = model.probabilities().toFloatMatrix();
      for (int b = 0; b < 3; b++) {
        assertArrayEquals(batched[b], newPad[b], 0f, "row " + b + " changed with the PAD embedding");
      }
      // Each row alone, as a batch of one: the same probabilities up to float rounding.
      for (int b = 0; b < 3; b++) {
        int[] row = Arrays.copyOfRange(TOKENS, b * 5, b * 5 + 5);
        model.forward(row, null, 1);
        assertArrayEquals(batched[b], model.probabilities().toFloatMatrix()[0], 1e-6f, "row " + b + " alone");
      }
      // More trailing padding: the same rows in a model with maxLen 8 and the same weights.
      ClassifierConfig longer = new ClassifierConfig(arch, 11, 8, 8, 2, 2, 3);
      try (SequenceClassifier wide = SequenceClassifier.create(longer, DataType.FLOAT)) {
        for (ParameterLayout.TensorSpec spec : model.layout().tensors()) {
          INDArray target = wide.params().view(spec.name());
          target.get(NDArrayIndex.interval(0, spec.shape()[0])).assign(model.params().view(spec.name()));
        }
        int[] padded = new int[3 * 8];
        for (int b = 0; b < 3; b++) {
          System.arraycopy(TOKENS, b * 5, padded, b * 8, 5);
        }
        wide.forward(padded, null, 3);
        float[][] widened = wide.probabilities().toFloatMatrix();
        for (int b = 0; b < 3; b++) {
          assertArrayEquals(newPad[b], widened[b], 1e-6f, "row " + b + " with maxLen 8");
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void theSameSeedGivesBitwiseTheSameParametersAndAnotherSeedDiffers(Architecture arch) {
    ClassifierConfig config = new ClassifierConfig(arch, 50, 16, 16, 2, 4, 2);
    try (SequenceClassifier a = SequenceClassifier.initialised(config, 42);
        SequenceClassifier b = SequenceClassifier.initialised(config, 42);
        SequenceClassifier c = SequenceClassifier.initialised(config, 43)) {
      assertEquals(DataType.FLOAT, a.params().dataType());
      assertArrayEquals(a.params().flat().toFloatVector(), b.params().flat().toFloatVector(), 0f);
      assertFalse(Arrays.equals(a.params().flat().toFloatVector(), c.params().flat().toFloatVector()));
      INDArray embed = a.params().view("embed.weight");
      double std = embed.stdNumber().doubleValue();
      assertEquals(TransformerInit.STD, std, 0.003, "embedding std");
      assertEquals(0.0, a.params().view("head.bias").amaxNumber().doubleValue(), 0.0);
      if (arch == Architecture.LSTM) {
        INDArray bias = a.params().view("lstm.0.bias");
        assertEquals(16.0, bias.sumNumber().doubleValue(), 0.0, "forget-gate quarter 1, the rest 0");
        assertEquals(1.0, bias.getDouble(16), 0.0);
        double bound = a.params().view("lstm.1.w_hh").amaxNumber().doubleValue();
        assertTrue(bound <= 0.25 && bound > 0.2, "U(-1/sqrt(H), 1/sqrt(H)) with H 16, max |w| " + bound);
      } else {
        assertEquals(8.0 * 2, a.params().view("h.1.ln_2.weight").sumNumber().doubleValue(), 0.0);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void learnsWhetherARowContainsAMarkerTokenWithAdamW(Architecture arch) {
    ClassifierConfig config = new ClassifierConfig(arch, 20, 12, 32, 2, 2, 2);
    int b = 32;
    try (SequenceClassifier model = SequenceClassifier.initialised(config, 7);
        AdamW adam = new AdamW(model.layout(), AdamW.Config.defaults().withWeightDecay(0))) {
      SplitMix64 rng = new SplitMix64(123);
      int[] labels = new int[b];
      int[] tokens = new int[b * config.maxLen()];
      double loss = Double.NaN;
      for (int step = 0; step < 400; step++) {
        markerTask(rng, tokens, labels, config.maxLen());
        model.zeroGrad();
        loss = model.forward(tokens, labels, b);
        model.backward();
        adam.step(model.params().flat(), model.grads().flat(), 3e-3);
      }
      int evalRows = 256;
      int[] evalLabels = new int[evalRows];
      int[] evalTokens = new int[evalRows * config.maxLen()];
      markerTask(new SplitMix64(999), evalTokens, evalLabels, config.maxLen());
      model.forward(evalTokens, null, evalRows); // a larger batch than in training: activations grow
      INDArray probs = model.probabilities();
      int correct = 0;
      for (int i = 0; i < evalRows; i++) {
        int predicted = probs.getDouble(i, 1) > probs.getDouble(i, 0) ? 1 : 0;
        correct += predicted == evalLabels[i] ? 1 : 0;
      }
      double accuracy = correct / (double) evalRows;
      assertTrue(accuracy > 0.95, arch + ": accuracy " + accuracy + " on fresh rows, last training loss " + loss);
    }
  }

  /** Rows of 1..maxLen tokens from 2..19; label 1 exactly when token 5 occurs (half the rows). */
  static void markerTask(SplitMix64 rng, int[] tokens, int[] labels, int maxLen) {
    Arrays.fill(tokens, SequenceClassifier.PAD_ID);
    for (int r = 0; r < labels.length; r++) {
      int len = 1 + (int) (rng.nextDouble() * maxLen);
      labels[r] = rng.nextDouble() < 0.5 ? 1 : 0;
      for (int t = 0; t < len; t++) {
        int id;
        do {
          id = 2 + (int) (rng.nextDouble() * 18);
        } while (id == 5);
        tokens[r * maxLen + t] = id;
      }
      if (labels[r] == 1) {
        tokens[r * maxLen + (int) (rng.nextDouble() * len)] = 5;
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void badInputsAndMisuseGiveErrorsThatNameTheProblem(Architecture arch) {
    try (SequenceClassifier model = SequenceClassifier.initialised(small(arch), 1)) {
      IllegalStateException early = assertThrows(IllegalStateException.class, model::backward);
      assertTrue(early.getMessage().contains("forward with labels first"), early.getMessage());
      assertThrows(IllegalStateException.class, model::probabilities);
      expect(model, "tokens[7]=11 (row 1, position 2)", with(7, 11), LABELS, 3);
      expect(model, "tokens[0]=-1 (row 0, position 0)", with(0, -1), LABELS, 3);
      expect(model, "row 1 is empty", with(5, 0), LABELS, 3);
      expect(model, "row 2 has PAD_ID at position 3 and token 4 at position 4", with(14, 4), LABELS, 3);
      expect(model, "labels[1]=3", TOKENS, new int[] {0, 3, 1}, 3);
      expect(model, "labels[2]=-1", TOKENS, new int[] {0, 1, -1}, 3);
      expect(model, "batch*maxLen=2*5=10 ids", TOKENS, new int[] {0, 1}, 2);
      expect(model, "batch=3, but found 2 labels", TOKENS, new int[] {0, 1}, 3);
      expect(model, "batch must be >= 1", new int[0], null, 0);
      assertTrue(Double.isNaN(model.forward(TOKENS, null, 3)), "inference returns NaN");
      assertEquals(3.0, model.probabilities().sumNumber().doubleValue(), 1e-5, "each row sums to 1");
      assertThrows(IllegalStateException.class, model::backward, "no backward after an inference forward");
      model.forward(TOKENS, LABELS, 3);
      model.backward();
      assertThrows(IllegalStateException.class, model::backward, "one backward per forward");
    }
  }

  private static int[] with(int index, int value) {
    int[] t = TOKENS.clone();
    t[index] = value;
    return t;
  }

  private static void expect(SequenceClassifier model, String part, int[] tokens, int[] labels, int batch) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> model.forward(tokens, labels, batch));
    assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void listenerRangesTileTheBufferFromTheEndAndAreFinalWhenReported(Architecture arch) {
    ClassifierConfig config = new ClassifierConfig(arch, 11, 5, 8, 3, 2, 3);
    try (SequenceClassifier model = SequenceClassifier.initialised(config, 7)) {
      ParameterLayout layout = model.layout();
      assertEquals("embed.weight", layout.tensors().get(0).name());
      assertArrayEquals(new long[] {11, 8}, layout.get("embed.weight").shape());
      assertArrayEquals(new long[] {8, 3}, layout.get("head.weight").shape());
      int n = layout.tensors().size();
      assertEquals("head.bias", layout.tensors().get(n - 1).name());
      assertEquals("head.weight", layout.tensors().get(n - 2).name());
      model.forward(TOKENS, LABELS, 3);
      INDArray grads = model.grads().flat();
      List<long[]> ranges = new ArrayList<>();
      List<float[]> snapshots = new ArrayList<>();
      model.backward((from, to) -> {
        ranges.add(new long[] {from, to});
        snapshots.add(grads.get(NDArrayIndex.interval(from, to)).toFloatVector());
      });
      int expected = arch == Architecture.TRANSFORMER ? config.layers() + 3 : config.layers() + 2;
      assertEquals(expected, ranges.size(), "head, [ln_f,] one per layer, then the embeddings");
      long expectedTo = layout.totalElements();
      for (long[] r : ranges) {
        assertEquals(expectedTo, r[1], "each range ends where the previous one began");
        assertTrue(r[0] < r[1], "non-empty range");
        expectedTo = r[0];
      }
      assertEquals(0, expectedTo, "the ranges reach the start of the buffer");
      for (int i = 0; i < ranges.size(); i++) {
        long[] r = ranges.get(i);
        assertArrayEquals(snapshots.get(i), grads.get(NDArrayIndex.interval(r[0], r[1])).toFloatVector(),
            "gradients [" + r[0] + ", " + r[1] + ") changed after they were reported final");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void backwardAccumulatesUntilZeroGradAndFloatAgreesWithDouble(Architecture arch) {
    ClassifierConfig config = small(arch);
    try (SequenceClassifier f = SequenceClassifier.initialised(config, 4);
        SequenceClassifier d = SequenceClassifier.create(config, DataType.DOUBLE)) {
      ClassifierInit.initialise(d.params(), config, 4);
      assertEquals(d.forward(TOKENS, LABELS, 3), f.forward(TOKENS, LABELS, 3), 1e-5);
      assertEquals(Math.log(3), f.forward(TOKENS, LABELS, 3), 0.05, "loss at init is close to log K");
      f.backward();
      d.backward();
      INDArray diff = f.grads().flat().castTo(DataType.DOUBLE).sub(d.grads().flat());
      double scale = d.grads().flat().amaxNumber().doubleValue();
      assertTrue(diff.amaxNumber().doubleValue() < 1e-4 * scale, "max grad diff " + diff.amaxNumber() + " of "
          + scale);
      INDArray once = f.grads().flat().dup();
      f.forward(TOKENS, LABELS, 3);
      f.backward();
      assertEquals(0.0, f.grads().flat().sub(once.mul(2)).amaxNumber().doubleValue(), 1e-6);
      f.zeroGrad();
      assertEquals(0.0, f.grads().flat().amaxNumber().doubleValue(), 0.0);
    }
  }

  /**
   * Row {@code id} of embed.weight (the first tensor) as a view of the flat buffer. Not
   * view("embed.weight").getRow(id): in ND4J M2.1 sub-views of a view at an offset can come back
   * without a buffer (see Arena).
   */
  private static INDArray embedRow(INDArray flat, int id, int c) {
    return flat.get(NDArrayIndex.interval((long) id * c, (long) (id + 1) * c));
  }

  private static void perturb(SequenceClassifier model, double std, long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    INDArray flat = model.params().flat();
    float[] values = flat.toFloatVector();
    for (int i = 0; i < values.length; i++) {
      values[i] += (float) (std * rng.nextGaussian());
    }
    flat.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(values));
  }
}
