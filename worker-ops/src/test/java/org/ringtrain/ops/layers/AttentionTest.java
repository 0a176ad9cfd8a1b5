/*
 * Tests of Attention: forward against a per-head loop reference, causality, backward against finite
 * differences. Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.layers.LayerTestSupport.project;
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
class AttentionTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static final int B = 2;
  private static final int T = 4;
  private static final int NH = 2;
  private static final int HS = 3;
  private static final int C = NH * HS;

  /** Buffers of one attention call, float64. */
  private static final class Bufs {
    final INDArray out = Nd4j.create(DataType.DOUBLE, B * T, C);
    final INDArray qkvh = Nd4j.create(DataType.DOUBLE, 3, B, NH, T, HS);
    final INDArray att = Nd4j.create(DataType.DOUBLE, B, NH, T, T);
    final INDArray yh = Nd4j.create(DataType.DOUBLE, B, NH, T, HS);
    final INDArray mask = Attention.causalMask(DataType.DOUBLE, T);

    void forward(INDArray inp) {
      Attention.forward(out, qkvh, att, yh, inp, mask, B, T, NH);
    }
  }

  /** Straightforward per-(b, h, t) reference, as in llm.c's attention_forward. */
  private static double[][] reference(INDArray inp) {
    double[][] out = new double[B * T][C];
    double scale = 1 / Math.sqrt(HS);
    for (int b = 0; b < B; b++) {
      for (int h = 0; h < NH; h++) {
        for (int t = 0; t < T; t++) {
          double[] w = new double[t + 1];
          double max = Double.NEGATIVE_INFINITY;
          for (int s = 0; s <= t; s++) {
            double dot = 0;
            for (int i = 0; i < HS; i++) {
              dot += inp.getDouble(b * T + t, h * HS + i) * inp.getDouble(b * T + s, C + h * HS + i);
            }
            w[s] = dot * scale;
            max = Math.max(max, w[s]);
          }
          double sum = 0;
          for (int s = 0; s <= t; s++) {
            w[s] = Math.exp(w[s] - max);
            sum += w[s];
          }
          for (int s = 0; s <= t; s++) {
            for (int i = 0; i < HS; i++) {
              out[b * T + t][h * HS + i] += w[s] / sum * inp.getDouble(b * T + s, 2 * C + h * HS + i);
            }
          }
        }
      }
    }
    return out;
  }

  @Test
  void forwardMatchesPerHeadReference() {
    INDArray inp = randn(1, 1, B * T, 3 * C);
    Bufs bufs = new Bufs();
    bufs.forward(inp);
    double[][] expected = reference(inp);
    for (int r = 0; r < B * T; r++) {
      for (int c = 0; c < C; c++) {
        assertEquals(expected[r][c], bufs.out.getDouble(r, c), 1e-12, "row " + r + " col " + c);
      }
    }
  }

  @Test
  void outputDoesNotDependOnFutureTokens() {
    INDArray inp = randn(1, 1, B * T, 3 * C);
    Bufs bufs = new Bufs();
    bufs.forward(inp);
    INDArray before = bufs.out.dup();
    inp.getRow(T - 1).addi(5.0); // last token of sequence 0
    bufs.forward(inp);
    for (int t = 0; t < T - 1; t++) {
      assertEquals(0.0, bufs.out.getRow(t).sub(before.getRow(t)).amaxNumber().doubleValue(), 0.0, "t=" + t);
    }
  }

  @Test
  void backwardMatchesFiniteDifferences() {
    INDArray inp = randn(1, 1, B * T, 3 * C);
    INDArray r = randn(2, 1, B * T, C);
    Bufs bufs = new Bufs();
    bufs.forward(inp);
    INDArray dinp = Nd4j.zeros(DataType.DOUBLE, B * T, 3 * C);
    Attention.backward(dinp, r, bufs.qkvh, bufs.att,
        Nd4j.create(DataType.DOUBLE, B, NH, T, HS), Nd4j.create(DataType.DOUBLE, B, NH, T, T),
        Nd4j.create(DataType.DOUBLE, B, NH, T, T), Nd4j.create(DataType.DOUBLE, B, NH, T),
        Nd4j.create(DataType.DOUBLE, 3, B, NH, T, HS), B, T, NH);
    GradCheck check = new GradCheck();
    check.check("qkv", inp, dinp, () -> {
      bufs.forward(inp);
      return project(bufs.out, r);
    }, 1000);
    assertTrue(check.passed(), check.report());
  }
}
