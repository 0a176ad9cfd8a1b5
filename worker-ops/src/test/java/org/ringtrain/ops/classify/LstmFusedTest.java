/*
 * Tests of Lstm's fused float32 path (LstmCellKernel per step) against its ND4J path on the same
 * float32 inputs, forward and backward through time. Kept apart from LstmTest, whose float64
 * checks (scalar reference, finite differences) cover the maths itself. Test code only.
 */
package org.ringtrain.ops.classify;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.kernels.Fused;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LstmFusedTest {

  // H = 20 is not a multiple of the vector width (8 or 16 floats), so the scalar tails run too.
  private static final int T = 6;
  private static final int B = 3;
  private static final int CIN = 7;
  private static final int H = 20;
  /** Float32 tolerance, relative to 1 + |value|: the two paths differ only in float rounding. */
  private static final double TOL = 2e-6;

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static INDArray f32(long seed, double std, long... shape) {
    return LstmTest.randn(seed, std, shape).castTo(DataType.FLOAT);
  }

  private static INDArray zeros(long... shape) {
    return Nd4j.create(DataType.FLOAT, shape);
  }

  /** One layer's arrays in float32; run() does forward and backward with either path. */
  private static final class Run {
    final INDArray out = zeros(T * B, H);
    final INDArray c = zeros(T * B, H);
    final INDArray tanhC = zeros(T * B, H);
    final INDArray act = zeros(T * B, 4 * H);
    final INDArray dinp = zeros(T * B, CIN);
    final INDArray dwih = zeros(CIN, 4 * H).addi(0.25f); // backward accumulates on top
    final INDArray dwhh = zeros(H, 4 * H);
    final INDArray dbias = zeros(4 * H);

    Run(boolean fused, INDArray inp, INDArray wih, INDArray whh, INDArray bias, INDArray dout) {
      INDArray[] scratch = {zeros(T * B, 4 * H), zeros(T * B, 4 * H), zeros(T * B, H), zeros(B, H), zeros(B, H),
          zeros(B, H)};
      INDArray ones = Nd4j.ones(DataType.FLOAT, 1, T * B);
      if (fused) {
        Lstm.forward(out, c, tanhC, act, inp, wih, whh, bias, T, B);
        Lstm.backward(dinp, dwih, dwhh, dbias, dout, inp, out, c, tanhC, act, wih, whh, scratch[0], scratch[1],
            scratch[2], scratch[3], scratch[4], scratch[5], ones, T, B);
      } else {
        Lstm.forwardNd4j(out, c, tanhC, act, inp, wih, whh, bias, T, B);
        Lstm.backwardNd4j(dinp, dwih, dwhh, dbias, dout, inp, out, c, tanhC, act, wih, whh, scratch[0],
            scratch[1], scratch[2], scratch[3], scratch[4], scratch[5], ones, T, B);
      }
    }
  }

  @Test
  void fusedForwardAndBackwardMatchTheNd4jPathWithinFloatRounding() {
    assertTrue(Fused.AVAILABLE, "the fused kernels are off in this JVM (no --add-modules=jdk.incubator.vector or"
        + " -Dringtrain.kernels.nd4j=true), so this test would compare the ND4J path with itself; run it with"
        + " the parent pom's surefire argLine");
    // Pre-activations reach |z| ~ 3, so the gates cover both saturated and linear ranges.
    INDArray inp = f32(1, 1.0, T * B, CIN);
    INDArray wih = f32(2, 0.6, CIN, 4 * H);
    INDArray whh = f32(3, 0.4, H, 4 * H);
    INDArray bias = f32(4, 0.5, 4 * H);
    INDArray dout = f32(5, 1.0, T * B, H);
    Run nd4j = new Run(false, inp, wih, whh, bias, dout);
    Run fused = new Run(true, inp, wih, whh, bias, dout);
    String report = compare("h", nd4j.out, fused.out) + compare("c", nd4j.c, fused.c)
        + compare("tanh(c)", nd4j.tanhC, fused.tanhC) + compare("gates", nd4j.act, fused.act)
        + compare("dinp", nd4j.dinp, fused.dinp) + compare("dw_ih", nd4j.dwih, fused.dwih)
        + compare("dw_hh", nd4j.dwhh, fused.dwhh) + compare("dbias", nd4j.dbias, fused.dbias);
    assertTrue(!report.contains("FAIL"), "fused vs ND4J path, largest |diff| / (1 + |nd4j|) per tensor, tolerance "
        + TOL + ":\n" + report);
  }

  /** One line per tensor: the largest relative difference, its index, and FAIL above TOL. */
  private static String compare(String name, INDArray want, INDArray got) {
    float[] w = want.reshape(want.length()).toFloatVector();
    float[] g = got.reshape(got.length()).toFloatVector();
    double worst = 0;
    int at = 0;
    for (int i = 0; i < w.length; i++) {
      double err = Math.abs((double) g[i] - w[i]) / (1 + Math.abs(w[i]));
      if (!(err <= worst)) {
        worst = err;
        at = i;
      }
    }
    return String.format("%-8s max %.2e at %d (nd4j %s, fused %s)%s%n", name, worst, at, w[at], g[at],
        worst <= TOL ? "" : " FAIL");
  }
}
