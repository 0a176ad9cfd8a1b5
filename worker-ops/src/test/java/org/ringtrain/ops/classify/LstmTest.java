/*
 * Tests of the Lstm layer alone: forward against a per-step scalar reference, backward through
 * time against finite differences in float64. Test code only.
 */
package org.ringtrain.ops.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.param.SplitMix64;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LstmTest {

  private static final int T = 4;
  private static final int B = 2;
  private static final int CIN = 3;
  private static final int H = 4;

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  static INDArray randn(long seed, double std, long... shape) {
    INDArray a = Nd4j.create(DataType.DOUBLE, shape);
    SplitMix64 rng = new SplitMix64(seed);
    for (long i = 0; i < a.length(); i++) {
      a.putScalar(i, std * rng.nextGaussian());
    }
    return a;
  }

  /** Inputs, weights and every activation and scratch array of one layer call, float64. */
  private static final class Layer {
    final INDArray inp = randn(1, 1.0, T * B, CIN);
    final INDArray wih = randn(2, 0.5, CIN, 4 * H);
    final INDArray whh = randn(3, 0.5, H, 4 * H);
    final INDArray bias = randn(4, 0.5, 4 * H);
    final INDArray out = Nd4j.create(DataType.DOUBLE, T * B, H);
    final INDArray c = Nd4j.create(DataType.DOUBLE, T * B, H);
    final INDArray tanhC = Nd4j.create(DataType.DOUBLE, T * B, H);
    final INDArray act = Nd4j.create(DataType.DOUBLE, T * B, 4 * H);

    void forward() {
      Lstm.forward(out, c, tanhC, act, inp, wih, whh, bias, T, B);
    }
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  @Test
  void forwardMatchesAScalarReferenceOfTheLstmEquations() {
    Layer layer = new Layer();
    layer.forward();
    for (int b = 0; b < B; b++) {
      double[] h = new double[H];
      double[] c = new double[H];
      for (int t = 0; t < T; t++) {
        double[] pre = new double[4 * H];
        for (int j = 0; j < 4 * H; j++) {
          double s = layer.bias.getDouble(j);
          for (int i = 0; i < CIN; i++) {
            s += layer.inp.getDouble(t * B + b, i) * layer.wih.getDouble(i, j);
          }
          for (int i = 0; i < H; i++) {
            s += h[i] * layer.whh.getDouble(i, j);
          }
          pre[j] = s;
        }
        for (int j = 0; j < H; j++) {
          double ig = sigmoid(pre[j]);
          double fg = sigmoid(pre[H + j]);
          double gg = Math.tanh(pre[2 * H + j]);
          double og = sigmoid(pre[3 * H + j]);
          c[j] = fg * c[j] + ig * gg;
          h[j] = og * Math.tanh(c[j]);
        }
        for (int j = 0; j < H; j++) {
          assertEquals(h[j], layer.out.getDouble(t * B + b, j), 1e-12, "h at t=" + t + " b=" + b + " j=" + j);
        }
      }
    }
  }

  @Test
  void backwardThroughTimeMatchesFiniteDifferences() {
    Layer layer = new Layer();
    INDArray r = randn(9, 1.0, T * B, H); // objective sum(out * r), so dout = r
    layer.forward();
    INDArray dinp = Nd4j.create(DataType.DOUBLE, T * B, CIN);
    INDArray dwih = Nd4j.create(DataType.DOUBLE, CIN, 4 * H);
    INDArray dwhh = Nd4j.create(DataType.DOUBLE, H, 4 * H);
    INDArray dbias = Nd4j.create(DataType.DOUBLE, 4 * H);
    dwih.assign(0.5); // backward accumulates: check it adds on top of what is there
    INDArray dout = r.dup();
    Lstm.backward(dinp, dwih, dwhh, dbias, dout, layer.inp, layer.out, layer.c, layer.tanhC, layer.act,
        layer.wih, layer.whh, Nd4j.create(DataType.DOUBLE, T * B, 4 * H), Nd4j.create(DataType.DOUBLE, T * B, 4 * H),
        Nd4j.create(DataType.DOUBLE, T * B, H), Nd4j.create(DataType.DOUBLE, B, H), Nd4j.create(DataType.DOUBLE, B, H),
        Nd4j.create(DataType.DOUBLE, B, H), Nd4j.ones(DataType.DOUBLE, 1, T * B), T, B);
    assertEquals(0.0, dout.sub(r).amaxNumber().doubleValue(), 0.0, "dout is read only");
    dwih.subi(0.5);
    GradCheck check = new GradCheck();
    java.util.function.DoubleSupplier f = () -> {
      layer.forward();
      return layer.out.mul(r).sumNumber().doubleValue();
    };
    check.check("inp", layer.inp, dinp, f, 100);
    check.check("w_ih", layer.wih, dwih, f, 100);
    check.check("w_hh", layer.whh, dwhh, f, 100);
    check.check("bias", layer.bias, dbias, f, 100);
    assertTrue(check.passed(), check.report());
  }

  @Test
  void oneStepNeedsNoRecurrentWeights() {
    Layer layer = new Layer();
    INDArray out1 = Nd4j.create(DataType.DOUBLE, B, H);
    Lstm.forward(out1, Nd4j.create(DataType.DOUBLE, B, H), Nd4j.create(DataType.DOUBLE, B, H),
        Nd4j.create(DataType.DOUBLE, B, 4 * H), layer.inp.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, B),
            org.nd4j.linalg.indexing.NDArrayIndex.all()), layer.wih, layer.whh.mul(0), layer.bias, 1, B);
    layer.forward();
    assertEquals(0.0, out1.sub(Lstm.rows(layer.out, 0, B)).amaxNumber().doubleValue(), 1e-15);
  }
}
