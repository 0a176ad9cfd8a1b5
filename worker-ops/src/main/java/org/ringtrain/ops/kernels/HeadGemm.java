/*
 * HeadGemm: the per-head matrix products of multi-head attention, one direct cblas_sgemm per
 * (sample, head), each operand addressed by a base pointer, a leading dimension and two strides.
 * Operands may sit in head-major arrays ([B, NH, T, HS], [B, NH, T, T]) or straight in the
 * token-major [B*T, P*C] activations of the Linear layers around attention, so the layout copies
 * on those sides and the INDArray views of each head are not needed. It is the float32 path of
 * CPU ND4J only (RowGemm.AVAILABLE); it is not attention itself (layers.Attention) and does no
 * softmax.
 */
package org.ringtrain.ops.kernels;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code c[b, h] = alpha * op(a[b, h]) @ op(b[b, h]) + beta * c[b, h]} for every sample b and head h.
 *
 * <p>Each product is one call of the {@code cblas_sgemm} that {@code Nd4j.gemm} calls, with the
 * same bits as {@code Nd4j.gemm} on that head's matrices (HeadGemmTest) and, measured, as
 * libnd4j's batched "matmul" op on the classifier's and GPT's shapes (the pinned step checksums
 * did not change); what is skipped is the op's dispatch, the per-head views and the copies into
 * and out of the head-major layout.
 */
public final class HeadGemm {

  /** A size that is each sample's own length (see the gemm with lengths). */
  public static final int SAMPLE_LENGTH = -1;

  private HeadGemm() {
  }

  /**
   * One operand: the matrix of sample b and head h starts at element
   * {@code first + b * batchStride + h * headStride} of {@code array} (a dense float32 array
   * accepted by {@link Fused#accepts}) and has row stride {@code ld}.
   */
  public record Operand(INDArray array, long first, int ld, long batchStride, long headStride) {

    /** Part {@code part} of a head-major [P, B, NH, T, W] array (P = 1 for [B, NH, T, W]). */
    public static Operand headMajor(INDArray array, int part, int batch, int heads, int rows, int width) {
      long matrix = (long) rows * width;
      return new Operand(array, (long) part * batch * heads * matrix, width, heads * matrix, matrix);
    }

    /**
     * Part {@code part} of a token-major [B*T, P*NH*HS] array: the head's HS columns of the part's
     * C, over the sample's T rows.
     */
    public static Operand tokenMajor(INDArray array, int part, int parts, int seqLen, int heads, int headSize) {
      int width = parts * heads * headSize;
      return new Operand(array, (long) part * heads * headSize, width, (long) seqLen * width, headSize);
    }
  }

  /**
   * All B*NH products, one after another on the caller's thread (each product is small; BLAS
   * may still thread a large one itself).
   *
   * @param c      the outputs, [M, N] per head
   * @param a      [M, K] per head, or [K, M] when transA
   * @param b      [K, N] per head, or [N, K] when transB
   * @param batch  B
   * @param heads  NH
   * @param m      M
   * @param n      N
   * @param k      K
   * @param alpha  scale of the product
   * @param beta   0 to overwrite c, 1 to accumulate
   */
  public static void gemm(Operand c, Operand a, boolean transA, Operand b, boolean transB, int batch, int heads,
      int m, int n, int k, float alpha, float beta) {
    gemm(c, a, transA, b, transB, batch, heads, m, n, k, alpha, beta, null);
  }

  /**
   * {@link #gemm(Operand, Operand, boolean, Operand, boolean, int, int, int, int, int, float, float)}
   * for samples of different lengths (attention over each row's own tokens): a size given as
   * {@link #SAMPLE_LENGTH} is {@code lengths[s]} for sample s, so each product covers only the
   * top-left block of its padded matrices; entries outside it are neither read nor written.
   *
   * @param lengths B sample lengths, each at most the padded size; null when no size is
   *                {@link #SAMPLE_LENGTH}
   */
  public static void gemm(Operand c, Operand a, boolean transA, Operand b, boolean transB, int batch, int heads,
      int m, int n, int k, float alpha, float beta, int[] lengths) {
    if (!RowGemm.AVAILABLE) {
      throw new IllegalStateException("HeadGemm needs the CPU backend's cblas_sgemm (RowGemm.AVAILABLE), but it is"
          + " not reachable in this JVM; callers must check RowGemm.AVAILABLE and use Kernels.bmm otherwise");
    }
    int longest = 0;
    for (int s = 0; lengths != null && s < batch; s++) {
      longest = Math.max(longest, lengths[s]);
    }
    int mMax = size(m, longest);
    int nMax = size(n, longest);
    int kMax = size(k, longest);
    check("c", c, batch, heads, mMax, nMax);
    check("a", a, batch, heads, transA ? kMax : mMax, transA ? mMax : kMax);
    check("b", b, batch, heads, transB ? nMax : kMax, transB ? kMax : nMax);
    FloatPointer pc = RowGemm.pointer(c.array(), c.first());
    FloatPointer pa = RowGemm.pointer(a.array(), a.first());
    FloatPointer pb = RowGemm.pointer(b.array(), b.first());
    long c0 = pc.position();
    long a0 = pa.position();
    long b0 = pb.position();
    for (int s = 0; s < batch; s++) {
      int length = lengths == null ? 0 : lengths[s];
      int ms = size(m, length);
      int ns = size(n, length);
      int ks = size(k, length);
      for (int h = 0; h < heads; h++) {
        pc.position(c0 + s * c.batchStride() + h * c.headStride());
        pa.position(a0 + s * a.batchStride() + h * a.headStride());
        pb.position(b0 + s * b.batchStride() + h * b.headStride());
        RowGemm.sgemm(transA, transB, ms, ns, ks, alpha, pa, a.ld(), pb, b.ld(), beta, pc, c.ld());
      }
    }
  }

  /** {@code size}, or {@code length} where size is {@link #SAMPLE_LENGTH}. */
  private static int size(int size, int length) {
    if (size == SAMPLE_LENGTH && length <= 0) {
      throw new IllegalArgumentException("HeadGemm: a size is SAMPLE_LENGTH, but found no lengths (or a length"
          + " below 1: " + length + "); pass every sample's length");
    }
    return size == SAMPLE_LENGTH ? length : size;
  }

  /** Every matrix of the operand must lie inside its array: a native call would not notice. */
  private static void check(String name, Operand o, int batch, int heads, int rows, int cols) {
    long last = o.first() + (batch - 1) * o.batchStride() + (heads - 1) * o.headStride() + (long) (rows - 1) * o.ld()
        + cols - 1;
    if (o.ld() < cols || o.first() < 0 || last >= o.array().length() || !Fused.accepts(o.array())) {
      throw new IllegalArgumentException("HeadGemm: expected operand " + name + " to hold " + batch + " x " + heads
          + " matrices of [" + rows + ", " + cols + "] (ld >= " + cols + ") inside a dense float32 array, but found"
          + " first " + o.first() + ", ld " + o.ld() + ", strides " + o.batchStride() + "/" + o.headStride()
          + " over " + o.array().length() + " elements (" + o.array().dataType() + "); pass matching arrays");
    }
  }
}
