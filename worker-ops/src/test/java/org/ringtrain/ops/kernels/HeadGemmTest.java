/*
 * Tests of HeadGemm: every per-head product, on head-major and token-major operands and all four
 * transpose combinations, against Nd4j.gemm on that head's matrices copied out; overwrite and
 * accumulate; operands that would run past their array are refused. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HeadGemmTest {

  private static final int B = 3;
  private static final int NH = 2;
  private static final int T = 5;
  private static final int HS = 4;
  private static final int C = NH * HS;

  /** Head h of sample b of a token-major [B*T, P*C] array, part p: [T, HS], copied. */
  private static INDArray tokenHead(INDArray a, int parts, int p, int b, int h) {
    return a.get(NDArrayIndex.interval(b * T, (b + 1) * T),
        NDArrayIndex.interval(p * C + h * HS, p * C + (h + 1) * HS)).dup();
  }

  /** Matrix [b, h] of a head-major [B, NH, R, W] array, copied. */
  private static INDArray headMatrix(INDArray a, int b, int h) {
    return a.get(NDArrayIndex.point(b), NDArrayIndex.point(h), NDArrayIndex.all(), NDArrayIndex.all()).dup();
  }

  @Test
  void scoresFromTokenMajorQkvGiveTheSameBitsAsGemmPerHead() {
    assertTrue(RowGemm.AVAILABLE, "the tests run on nd4j-native");
    INDArray qkv = KernelTestSupport.f32(KernelTestSupport.randn(1, 0, 1, B * T, 3 * C));
    INDArray c0 = KernelTestSupport.f32(KernelTestSupport.randn(2, 0, 1, B, NH, T, T));
    for (float beta : new float[] {0f, 1f}) {
      INDArray got = c0.dup();
      HeadGemm.gemm(HeadGemm.Operand.headMajor(got, 0, B, NH, T, T), HeadGemm.Operand.tokenMajor(qkv, 0, 3, T, NH, HS),
          false, HeadGemm.Operand.tokenMajor(qkv, 1, 3, T, NH, HS), true, B, NH, T, T, HS, 0.5f, beta);
      for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
          INDArray want = headMatrix(c0, b, h);
          Nd4j.gemm(tokenHead(qkv, 3, 0, b, h), tokenHead(qkv, 3, 1, b, h), want, false, true, 0.5, beta);
          KernelTestSupport.assertSameBits("scores [" + b + ", " + h + "], beta " + beta, want, headMatrix(got, b, h));
        }
      }
    }
  }

  @Test
  void transposedHeadMajorOperandsWriteTokenMajorOutput() {
    INDArray att = KernelTestSupport.f32(KernelTestSupport.randn(3, 0, 1, B, NH, T, T));
    INDArray qkvh = KernelTestSupport.f32(KernelTestSupport.randn(4, 0, 1, 3, B, NH, T, HS));
    INDArray out = Nd4j.zeros(DataType.FLOAT, B * T, 3 * C);
    HeadGemm.gemm(HeadGemm.Operand.tokenMajor(out, 1, 3, T, NH, HS), HeadGemm.Operand.headMajor(att, 0, B, NH, T, T),
        true, HeadGemm.Operand.headMajor(qkvh, 2, B, NH, T, HS), false, B, NH, T, HS, T, 0.25f, 0f);
    for (int b = 0; b < B; b++) {
      for (int h = 0; h < NH; h++) {
        INDArray v = qkvh.get(NDArrayIndex.point(2), NDArrayIndex.point(b), NDArrayIndex.point(h), NDArrayIndex.all(),
            NDArrayIndex.all()).dup();
        INDArray want = Nd4j.zeros(DataType.FLOAT, T, HS);
        Nd4j.gemm(headMatrix(att, b, h), v, want, true, false, 0.25, 0.0);
        KernelTestSupport.assertSameBits("att^T v [" + b + ", " + h + "]", want, tokenHead(out, 3, 1, b, h));
        KernelTestSupport.assertSameBits("untouched part 0 [" + b + ", " + h + "]", Nd4j.zeros(DataType.FLOAT, T, HS),
            tokenHead(out, 3, 0, b, h));
      }
    }
  }

  @Test
  void anOperandRunningPastItsArrayIsRefused() {
    INDArray small = Nd4j.zeros(DataType.FLOAT, B * T, C);
    INDArray att = Nd4j.zeros(DataType.FLOAT, B, NH, T, T);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HeadGemm.gemm(
        HeadGemm.Operand.headMajor(att, 0, B, NH, T, T), HeadGemm.Operand.tokenMajor(small, 1, 3, T, NH, HS), false,
        HeadGemm.Operand.tokenMajor(small, 0, 1, T, NH, HS), true, B, NH, T, T, HS, 1f, 0f));
    assertTrue(e.getMessage().contains("expected operand a"), e.getMessage());
  }
}
