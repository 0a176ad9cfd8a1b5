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

  /**
   * Per-sample lengths (the float32 path computes each sample's own block only): the rows inside
   * the lengths match the key-padding-masked forward and backward, rows past a length are left as
   * they were, and a mask that is neither a key padding mask nor causal is refused.
   */
  @Test
  void perSampleLengthsGiveTheMaskedResultsInsideTheLengthsAndRefuseOtherMasks() {
    int t = 20; // longer than a float vector, so the softmax rows take both the vector and the scalar paths
    int[] lengths = {20, 3};
    INDArray inp = randn(11, 1, B * t, 3 * C).castTo(DataType.FLOAT);
    INDArray dout = randn(12, 1, B * t, C).castTo(DataType.FLOAT);
    INDArray keyMask = Nd4j.zeros(DataType.FLOAT, B, 1, 1, t);
    for (int p = lengths[1]; p < t; p++) {
      keyMask.putScalar(new long[] {1, 0, 0, p}, Attention.MASKED);
      dout.getRow((long) t + p).assign(0); // a padded query's output is read by nothing: its gradient is 0
    }
    INDArray[] outs = new INDArray[2];
    INDArray[] dinps = new INDArray[2];
    for (int ragged = 0; ragged < 2; ragged++) {
      int[] lens = ragged == 1 ? lengths : null;
      INDArray out = Nd4j.valueArrayOf(new long[] {B * t, C}, 7f, DataType.FLOAT);
      INDArray qkvh = Nd4j.create(DataType.FLOAT, 3, B, NH, t, HS);
      INDArray att = Nd4j.create(DataType.FLOAT, B, NH, t, t);
      INDArray yh = Nd4j.create(DataType.FLOAT, B, NH, t, HS);
      INDArray datt = Nd4j.create(DataType.FLOAT, B, NH, t, t);
      Attention.forward(out, qkvh, att, yh, inp, keyMask, null, null, lens, B, t, NH);
      INDArray dinp = Nd4j.valueArrayOf(new long[] {B * t, 3 * C}, 7f, DataType.FLOAT);
      Attention.backward(dinp, dout, qkvh, att, yh.dup(), datt, datt, Nd4j.create(DataType.FLOAT, B, NH, t),
          qkvh.dup(), null, lens, B, t, NH);
      outs[ragged] = out;
      dinps[ragged] = dinp;
    }
    for (int b = 0; b < B; b++) {
      for (int p = 0; p < t; p++) {
        long row = (long) b * t + p;
        if (p < lengths[b]) {
          assertTrue(outs[0].getRow(row).equalsWithEps(outs[1].getRow(row), 1e-5), "out row " + row);
          assertTrue(dinps[0].getRow(row).equalsWithEps(dinps[1].getRow(row), 1e-5), "dinp row " + row);
        } else {
          assertEquals(7f, outs[1].getFloat(row, 0), "out row " + row + " is past its sample's length: untouched");
          assertEquals(7f, dinps[1].getFloat(row, 0), "dinp row " + row + " is past its sample's length: untouched");
        }
      }
    }
    INDArray notCausal = Nd4j.zeros(DataType.FLOAT, t, t);
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Attention.forward(Nd4j.create(DataType.FLOAT, B * t, C), Nd4j.create(DataType.FLOAT, 3, B, NH, t, HS),
            Nd4j.create(DataType.FLOAT, B, NH, t, t), Nd4j.create(DataType.FLOAT, B, NH, t, HS), inp, notCausal, null,
            null, lengths, B, t, NH));
    assertTrue(e.getMessage().contains("a key padding mask [B, 1, 1, T] or the causal mask [T, T]"), e.getMessage());
  }
}
