/*
 * Tests of SoftmaxKernel through Attention: float32 forward and backward against Attention's ND4J
 * composition in float64, with a causal mask and with a key padding mask, on sequence lengths off
 * the vector length; masked keys get probability exactly 0; the same bits on any thread count.
 * Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.layers.Attention;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SoftmaxKernelTest {

  private static final int B = 3;
  private static final int NH = 2;
  private static final int HS = 5;
  private static final int C = NH * HS;

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /** A [B, 1, 1, T] key padding mask: sequence b has T - 2 b real tokens. */
  private static INDArray paddingMask(DataType type, int t) {
    INDArray mask = Nd4j.zeros(type, B, 1, 1, t);
    for (int b = 1; b < B; b++) {
      mask.get(NDArrayIndex.point(b), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(t - 2 * b, t))
          .assign(Attention.MASKED);
    }
    return mask;
  }

  /** {out, att, dinp} of Attention forward and backward in {@code type}. */
  private static INDArray[] run(INDArray qkv, INDArray dout, boolean causal, int t, DataType type) {
    INDArray inp = qkv.castTo(type);
    INDArray mask = causal ? Attention.causalMask(type, t) : paddingMask(type, t);
    INDArray out = Nd4j.create(type, B * t, C);
    INDArray qkvh = Nd4j.create(type, 3, B, NH, t, HS);
    INDArray att = Nd4j.create(type, B, NH, t, t);
    INDArray dinp = Nd4j.create(type, B * t, 3 * C);
    Attention.forward(out, qkvh, att, Nd4j.create(type, B, NH, t, HS), inp, mask, B, t, NH);
    Attention.backward(dinp, dout.castTo(type), qkvh, att, Nd4j.create(type, B, NH, t, HS),
        Nd4j.create(type, B, NH, t, t), Nd4j.create(type, B, NH, t, t), Nd4j.create(type, B, NH, t),
        Nd4j.create(type, 3, B, NH, t, HS), B, t, NH);
    return new INDArray[] {out, att, dinp};
  }

  @Test
  void matchesTheFloat64CompositionWithCausalAndPaddingMasks() {
    for (int t : new int[] {1, 7, 19, 40}) {
      for (boolean causal : new boolean[] {true, false}) {
        if (!causal && t < 2 * B) {
          continue; // every sequence keeps at least one real token
        }
        INDArray qkv = randn(t, 0.0, 1.0, B * t, 3 * C);
        INDArray dout = randn(t + 100, 0.0, 1.0, B * t, C);
        INDArray[] want = run(qkv, dout, causal, t, DataType.DOUBLE);
        INDArray[] got = run(qkv, dout, causal, t, DataType.FLOAT);
        String at = (causal ? " causal" : " padded") + " T=" + t;
        assertClose("out" + at, want[0], got[0], 1e-5);
        assertClose("att" + at, want[1], got[1], 1e-6);
        assertClose("dinp" + at, want[2], got[2], 1e-5);
      }
    }
  }

  @Test
  void maskedKeysGetProbabilityExactlyZero() {
    int t = 19;
    INDArray[] got = run(randn(1, 0.0, 3.0, B * t, 3 * C), randn(2, 0.0, 1.0, B * t, C), true, t, DataType.FLOAT);
    INDArray att = got[1];
    for (int i = 0; i < t; i++) {
      for (int j = i + 1; j < t; j++) {
        assertEquals(0f, att.getFloat(1, 1, i, j), "att[1, 1, " + i + ", " + j + "]");
      }
    }
  }

  @Test
  void givesTheSameBitsOnAnyThreadCount() {
    int t = 37;
    INDArray qkv = randn(3, 0.0, 1.0, B * t, 3 * C);
    INDArray dout = randn(4, 0.0, 1.0, B * t, C);
    INDArray[][] results = new INDArray[2][];
    withThreads(1, () -> results[0] = run(qkv, dout, true, t, DataType.FLOAT));
    withThreads(3, () -> results[1] = run(qkv, dout, true, t, DataType.FLOAT));
    for (int i = 0; i < 3; i++) {
      assertSameBits("result " + i, results[0][i], results[1][i]);
    }
  }

  @Test
  void supportsOnlyCausalAndKeyPaddingMaskShapes() {
    INDArray att = Nd4j.create(DataType.FLOAT, B, NH, 6, 6);
    assertTrue(SoftmaxKernel.supportsMask(att, Nd4j.create(DataType.FLOAT, 6, 6)));
    assertTrue(SoftmaxKernel.supportsMask(att, Nd4j.create(DataType.FLOAT, B, 1, 1, 6)));
    assertFalse(SoftmaxKernel.supportsMask(att, Nd4j.create(DataType.FLOAT, 1, 1, 6, 6)));
    assertFalse(SoftmaxKernel.supportsMask(att, Nd4j.create(DataType.FLOAT, 6)));
  }
}
