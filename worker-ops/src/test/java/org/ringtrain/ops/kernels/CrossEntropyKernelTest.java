/*
 * Tests of CrossEntropyKernel through SoftmaxCrossEntropy: float32 loss, probabilities and logit
 * gradients against the ND4J composition in float64 (vocabularies off the vector length, ignored rows, logits wide
 * enough that targets have tiny probabilities), and the same bits on any thread count. Test code
 * only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertClose;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertSameBits;
import static org.ringtrain.ops.kernels.KernelTestSupport.randn;
import static org.ringtrain.ops.kernels.KernelTestSupport.withThreads;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.layers.SoftmaxCrossEntropy;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CrossEntropyKernelTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static int[] targets(int n, int v) {
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = i % 5 == 3 ? -1 : (i * 7919) % v; // every fifth row ignored
    }
    return t;
  }

  @Test
  void matchesTheFloat64Composition() {
    for (int[] nv : new int[][] {{1, 3}, {13, 37}, {21, 300}}) {
      for (double scale : new double[] {1.0, 30.0}) {
        INDArray logits = randn(nv[1], 0.0, scale, nv[0], nv[1]);
        int[] t = targets(nv[0], nv[1]);
        INDArray want = Nd4j.create(DataType.DOUBLE, nv[0], nv[1]);
        INDArray got = Nd4j.create(DataType.FLOAT, nv[0], nv[1]);
        double wantLoss = SoftmaxCrossEntropy.forward(want, logits, t, -1);
        double gotLoss = SoftmaxCrossEntropy.forward(got, logits.castTo(DataType.FLOAT), t, -1);
        String at = " " + nv[0] + "x" + nv[1] + " scale " + scale;
        assertEquals(wantLoss, gotLoss, 1e-5 * (1 + Math.abs(wantLoss)), "loss" + at);
        assertClose("probs" + at, want, got, 1e-6);
        INDArray wantGrad = Nd4j.create(DataType.DOUBLE, nv[0], nv[1]);
        INDArray gotGrad = Nd4j.create(DataType.FLOAT, nv[0], nv[1]).assign(7); // every element is written
        SoftmaxCrossEntropy.backward(wantGrad, want, t, -1, 0.7);
        SoftmaxCrossEntropy.backward(gotGrad, got, t, -1, 0.7);
        assertClose("dlogits" + at, wantGrad, gotGrad, 1e-6);
      }
    }
  }

  @Test
  void givesTheSameBitsOnAnyThreadCount() {
    INDArray logits = randn(9, 0.0, 3.0, 45, 77).castTo(DataType.FLOAT);
    int[] t = targets(45, 77);
    INDArray[] probs = {Nd4j.create(DataType.FLOAT, 45, 77), Nd4j.create(DataType.FLOAT, 45, 77)};
    double[] loss = new double[2];
    withThreads(1, () -> loss[0] = SoftmaxCrossEntropy.forward(probs[0], logits, t, -1));
    withThreads(3, () -> loss[1] = SoftmaxCrossEntropy.forward(probs[1], logits, t, -1));
    assertEquals(Double.doubleToRawLongBits(loss[0]), Double.doubleToRawLongBits(loss[1]), "loss bits");
    assertSameBits("probs", probs[0], probs[1]);
    INDArray[] grads = {Nd4j.create(DataType.FLOAT, 45, 77), Nd4j.create(DataType.FLOAT, 45, 77)};
    withThreads(1, () -> SoftmaxCrossEntropy.backward(grads[0], probs[0], t, -1, 1.0));
    withThreads(3, () -> SoftmaxCrossEntropy.backward(grads[1], probs[0], t, -1, 1.0));
    assertSameBits("dlogits", grads[0], grads[1]);
  }
}
