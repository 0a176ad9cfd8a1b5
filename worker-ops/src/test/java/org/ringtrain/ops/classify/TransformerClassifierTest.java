/*
 * Tests of the Transformer classifier's causal variant (ClassifierConfig.causal, the mask a GPT
 * backbone's blocks were trained with): finite differences of every tensor in float64, with and
 * without dropout; padding still changes nothing; and the causal mask really differs from the
 * bidirectional one (except for a one-token row). Then its two layouts: packed rows (the default)
 * against every padded position computed, for both masks, both types, with and without dropout.
 * SequenceClassifierTest covers the bidirectional model. Test code only.
 */
package org.ringtrain.ops.classify;

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
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.classify.ClassifierConfig.Architecture;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.transformer.DropoutKey;

class TransformerClassifierTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /** V 11, maxLen 5, C 8, L 2, NH 2, K 3, causal. */
  private static ClassifierConfig causal() {
    return new ClassifierConfig(Architecture.TRANSFORMER, 11, 5, 8, 2, 2, 3, true);
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void causalGradientsOfEveryTensorMatchFiniteDifferencesWithAndWithoutDropout() {
    ClassifierConfig config = causal();
    try (SequenceClassifier model = SequenceClassifier.create(config, DataType.DOUBLE)) {
      ClassifierInit.initialise(model.params(), config, 3);
      perturb(model.params().flat(), 0.3, 9);
      int[] tokens = SequenceClassifierTest.TOKENS;
      int[] labels = SequenceClassifierTest.LABELS;
      model.zeroGrad();
      model.forward(tokens, labels, 3);
      model.backward();
      GradCheck check = new GradCheck();
      for (ParameterLayout.TensorSpec spec : model.layout().tensors()) {
        check.check(spec.name(), model.params().view(spec.name()), model.grads().view(spec.name()),
            () -> model.forward(tokens, labels, 3), 16);
      }
      assertTrue(check.passed(), "causal\n" + check.report());

      DropoutKey key = new DropoutKey(5, 2, new int[] {10, 11, 12});
      model.zeroGrad();
      model.forward(tokens, labels, 3, 0.3, key);
      model.backward();
      GradCheck dropped = new GradCheck();
      for (ParameterLayout.TensorSpec spec : model.layout().tensors()) {
        dropped.check(spec.name(), model.params().view(spec.name()), model.grads().view(spec.name()),
            () -> model.forward(tokens, labels, 3, 0.3, key), 8);
      }
      assertTrue(dropped.passed(), "causal with dropout 0.3\n" + dropped.report());
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aCausalRowIgnoresItsPaddingAndDiffersFromTheBidirectionalModelOnTheSameWeights() {
    ClassifierConfig config = causal();
    ClassifierConfig bidirectional = new ClassifierConfig(Architecture.TRANSFORMER, 11, 5, 8, 2, 2, 3);
    try (SequenceClassifier model = SequenceClassifier.initialised(config, 5);
        SequenceClassifier both = SequenceClassifier.create(bidirectional, DataType.FLOAT)) {
      perturb(model.params().flat(), 0.5, 17);
      both.params().flat().assign(model.params().flat());
      int[] tokens = SequenceClassifierTest.TOKENS;
      model.forward(tokens, null, 3);
      float[][] probs = model.probabilities().toFloatMatrix();
      model.params().view("embed.weight").getRow(SequenceClassifier.PAD_ID).assign(7.0);
      model.forward(tokens, null, 3);
      for (int b = 0; b < 3; b++) {
        assertArrayEquals(probs[b], model.probabilities().toFloatMatrix()[b], 0f, "row " + b + " and PAD");
      }
      both.forward(tokens, null, 3);
      float[][] other = both.probabilities().toFloatMatrix();
      assertArrayEquals(probs[1], other[1], 1e-6f, "a one-token row is the same under either mask");
      assertTrue(Math.abs(probs[0][0] - other[0][0]) > 1e-4, "a five-token row sees fewer keys under the causal"
          + " mask: " + probs[0][0] + " vs " + other[0][0]);
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void causalIsRefusedForTheLstmAndKeptByTheSevenArgumentConstructorAsFalse() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ClassifierConfig(Architecture.LSTM, 11, 5, 8, 2, 1, 3, true));
    assertTrue(e.getMessage().contains("causal attention is a TRANSFORMER setting"), e.getMessage());
    assertEquals(false, new ClassifierConfig(Architecture.TRANSFORMER, 11, 5, 8, 2, 2, 3).causal());
  }

  /**
   * Packed and padded rows are two layouts of one computation: on batches of changing shape (so
   * the arena re-carves and the packed row count is sometimes rounded up, sometimes B*T'), the loss,
   * the probabilities and every gradient agree to rounding: float64 to 1e-12, float32 to 1e-5 of the
   * largest value; with dropout too (a token keeps its mask in either layout).
   */
  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void packedRowsGiveThePaddedLayoutsLossProbabilitiesAndGradients() {
    int[][] lengths = {{3, 9, 1}, {2, 2, 5, 4, 1}, {9, 9}, {1}, {7, 3, 8, 2, 6}};
    for (boolean isCausal : new boolean[] {false, true}) {
      ClassifierConfig config = new ClassifierConfig(Architecture.TRANSFORMER, 11, 9, 8, 2, 2, 3, isCausal);
      for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
        double tol = type == DataType.DOUBLE ? 1e-12 : 1e-5;
        try (TransformerClassifier packed = new TransformerClassifier(config, type, true);
            TransformerClassifier padded = new TransformerClassifier(config, type, false)) {
          ClassifierInit.initialise(packed.params(), config, 4);
          perturb(packed.params().flat(), 0.3, 8);
          padded.params().flat().assign(packed.params().flat());
          SplitMix64 rng = new SplitMix64(21);
          int step = 0;
          for (int[] rows : lengths) {
            for (double dropout : new double[] {0, 0.3}) {
              String what = (isCausal ? "causal " : "bidirectional ") + type + " lengths "
                  + java.util.Arrays.toString(rows) + " dropout " + dropout;
              int[] tokens = new int[rows.length * config.maxLen()];
              int[] labels = new int[rows.length];
              int[] samples = new int[rows.length];
              for (int b = 0; b < rows.length; b++) {
                for (int t = 0; t < rows[b]; t++) {
                  tokens[b * config.maxLen() + t] = 1 + (int) (rng.nextDouble() * 10);
                }
                labels[b] = (int) (rng.nextDouble() * 3);
                samples[b] = 100 + b;
              }
              DropoutKey key = dropout == 0 ? null : new DropoutKey(7, step++, samples);
              double[] losses = new double[2];
              INDArray[] probs = new INDArray[2];
              INDArray[] grads = new INDArray[2];
              TransformerClassifier[] models = {packed, padded};
              for (int m = 0; m < 2; m++) {
                models[m].zeroGrad();
                losses[m] = models[m].forward(tokens, labels, rows.length, dropout, key);
                probs[m] = models[m].probabilities().dup();
                models[m].backward();
                grads[m] = models[m].grads().flat().dup();
              }
              assertEquals(losses[1], losses[0], tol * Math.max(1, Math.abs(losses[1])), what + ": loss");
              assertClose(probs[1], probs[0], tol, what + ": probabilities");
              assertClose(grads[1], grads[0], tol, what + ": gradients");
            }
          }
        }
      }
    }
  }

  private static void assertClose(INDArray expected, INDArray actual, double tol, String what) {
    double[] e = expected.castTo(DataType.DOUBLE).reshape(expected.length()).toDoubleVector();
    double[] a = actual.castTo(DataType.DOUBLE).reshape(actual.length()).toDoubleVector();
    double scale = 1;
    for (double v : e) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < e.length; i++) {
      assertTrue(Math.abs(e[i] - a[i]) <= tol * scale, what + " differ at " + i + ": padded " + e[i] + ", packed "
          + a[i] + " (tolerance " + tol * scale + ")");
    }
  }

  private static void perturb(INDArray flat, double std, long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    double[] values = flat.dup().castTo(DataType.DOUBLE).toDoubleVector();
    for (int i = 0; i < values.length; i++) {
      values[i] += std * rng.nextGaussian();
    }
    flat.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(values).castTo(flat.dataType()));
  }
}
