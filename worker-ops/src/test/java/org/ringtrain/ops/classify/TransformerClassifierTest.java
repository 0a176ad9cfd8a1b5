/*
 * Tests of the Transformer classifier's causal variant (ClassifierConfig.causal, the mask a GPT
 * backbone's blocks were trained with): finite differences of every tensor in float64, with and
 * without dropout; padding still changes nothing; and the causal mask really differs from the
 * bidirectional one (except for a one-token row). SequenceClassifierTest covers the bidirectional
 * model. Test code only.
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

  private static void perturb(INDArray flat, double std, long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    double[] values = flat.dup().castTo(DataType.DOUBLE).toDoubleVector();
    for (int i = 0; i < values.length; i++) {
      values[i] += std * rng.nextGaussian();
    }
    flat.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(values).castTo(flat.dataType()));
  }
}
