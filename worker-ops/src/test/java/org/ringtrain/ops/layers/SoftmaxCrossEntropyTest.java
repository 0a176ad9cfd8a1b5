/*
 * Tests of SoftmaxCrossEntropy: the mean over kept tokens, the ignore index, backward against
 * finite differences. Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
class SoftmaxCrossEntropyTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static final int N = 5;
  private static final int V = 7;
  private static final int[] TARGETS = {3, -1, 0, 6, 3};

  @Test
  void lossIsMeanNegativeLogLikelihoodOverKeptTokens() {
    INDArray logits = randn(1, 2, N, V);
    INDArray probs = Nd4j.create(DataType.DOUBLE, N, V);
    double loss = SoftmaxCrossEntropy.forward(probs, logits, TARGETS, -1);
    double expected = 0;
    for (int i = 0; i < N; i++) {
      if (TARGETS[i] < 0) {
        continue;
      }
      double sum = 0;
      for (int j = 0; j < V; j++) {
        sum += Math.exp(logits.getDouble(i, j));
      }
      expected += -(logits.getDouble(i, TARGETS[i]) - Math.log(sum)) / 4;
    }
    assertEquals(expected, loss, 1e-12);
  }

  @Test
  void uniformLogitsGiveLogV() {
    INDArray probs = Nd4j.create(DataType.DOUBLE, N, V);
    assertEquals(Math.log(V), SoftmaxCrossEntropy.forward(probs, Nd4j.zeros(DataType.DOUBLE, N, V), TARGETS, -1),
        1e-12);
  }

  @Test
  void allIgnoredGivesZeroLossAndNoGradient() {
    int[] ignored = {-1, -1, -1, -1, -1};
    INDArray probs = Nd4j.create(DataType.DOUBLE, N, V);
    assertEquals(0.0, SoftmaxCrossEntropy.forward(probs, randn(1, 1, N, V), ignored, -1));
    INDArray d = Nd4j.zeros(DataType.DOUBLE, N, V);
    SoftmaxCrossEntropy.backward(d, probs, ignored, -1, 1.0);
    assertEquals(0.0, d.amaxNumber().doubleValue());
  }

  @Test
  void backwardMatchesFiniteDifferences() {
    INDArray logits = randn(1, 2, N, V);
    INDArray probs = Nd4j.create(DataType.DOUBLE, N, V);
    SoftmaxCrossEntropy.forward(probs, logits, TARGETS, -1);
    INDArray d = Nd4j.zeros(DataType.DOUBLE, N, V);
    SoftmaxCrossEntropy.backward(d, probs, TARGETS, -1, 1.0);
    GradCheck check = new GradCheck();
    check.check("logits", logits, d,
        () -> SoftmaxCrossEntropy.forward(Nd4j.create(DataType.DOUBLE, N, V), logits, TARGETS, -1), 100);
    assertTrue(check.passed(), check.report());
    assertEquals(0.0, d.getRow(1).amaxNumber().doubleValue(), 1e-15, "ignored row gets no gradient");
  }
}
