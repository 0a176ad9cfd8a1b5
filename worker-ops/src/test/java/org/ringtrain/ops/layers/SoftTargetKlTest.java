/*
 * Tests of SoftTargetKl, the distillation term: the KL sum against its definition, zero when the
 * student equals the teacher, and backward against finite differences in float64 (temperatures 1
 * and 2.5, ignored rows). Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.layers.LayerTestSupport.randn;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SoftTargetKlTest {
  private static final int N = 5;
  private static final int V = 7;
  private static final int[] TARGETS = {3, -1, 0, 6, 3};

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static double klSum(INDArray logits, INDArray teacher, double tau) {
    INDArray logp = Nd4j.create(DataType.DOUBLE, N, V);
    INDArray p = Nd4j.create(DataType.DOUBLE, N, V);
    SoftTargetKl.teacherForward(logp, p, teacher, tau);
    return SoftTargetKl.forwardSum(Nd4j.create(DataType.DOUBLE, N, V), logits, logp, p, TARGETS, -1, tau);
  }

  @Test
  void forwardIsTheKlOfTheSoftenedDistributionsOverKeptRows() {
    INDArray logits = randn(1, 2, N, V);
    INDArray teacher = randn(2, 3, N, V);
    double tau = 2.0;
    double expected = 0;
    for (int i = 0; i < N; i++) {
      if (TARGETS[i] < 0) {
        continue;
      }
      double zs = 0;
      double zt = 0;
      for (int j = 0; j < V; j++) {
        zs += Math.exp(logits.getDouble(i, j) / tau);
        zt += Math.exp(teacher.getDouble(i, j) / tau);
      }
      for (int j = 0; j < V; j++) {
        double p = Math.exp(teacher.getDouble(i, j) / tau) / zt;
        double q = Math.exp(logits.getDouble(i, j) / tau) / zs;
        expected += p * Math.log(p / q);
      }
    }
    assertEquals(expected, klSum(logits, teacher, tau), 1e-12);
    assertEquals(0.0, klSum(teacher, teacher, tau), 1e-12, "a student equal to its teacher has KL 0");
  }

  @ParameterizedTest(name = "tau {0}")
  @ValueSource(doubles = {1.0, 2.5})
  void backwardMatchesFiniteDifferences(double tau) {
    INDArray logits = randn(3, 2, N, V);
    INDArray teacher = randn(4, 3, N, V);
    INDArray logp = Nd4j.create(DataType.DOUBLE, N, V);
    INDArray p = Nd4j.create(DataType.DOUBLE, N, V);
    SoftTargetKl.teacherForward(logp, p, teacher, tau);
    double scale = 0.7; // as alpha * tau^2 / kept would be
    INDArray d = Nd4j.create(DataType.DOUBLE, N, V);
    SoftTargetKl.backward(d, logits, p, TARGETS, -1, tau, scale);
    GradCheck check = new GradCheck();
    check.check("logits", logits, d, () -> scale * klSum(logits, teacher, tau), 100);
    assertTrue(check.passed(), check.report());
    assertEquals(0.0, d.getRow(1).amaxNumber().doubleValue(), 1e-15, "ignored row gets no gradient");
    assertTrue(d.amaxNumber().doubleValue() > 1e-3, "a gradient that is not all zero");
  }
}
