/*
 * Kernels: the handful of ND4J calls every layer uses, each writing into a preallocated output.
 * It is not a layer and holds no state; it exists so the fast call shapes (gemm with transpose
 * flags, the batched "matmul" custom op, broadcasts with an explicit output) are written once.
 */
package org.ringtrain.ops.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.kernels.ColumnSumKernel;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.kernels.RowGemm;

/** Allocation-free ND4J building blocks shared by the layers. */
public final class Kernels {

  private Kernels() {
  }

  /**
   * {@code c = alpha * op(a) @ op(b) + beta * c} for 2-D arrays, where op transposes when its flag
   * is set. {@code c} must be contiguous (a dense view into a flat buffer is fine). This is BLAS
   * sgemm/dgemm with no copies: transposes are flags, not data moves. Dense float32 arrays on the
   * CPU backend go to cblas_sgemm directly (RowGemm.matmul), with the same bits as Nd4j.gemm.
   */
  public static void gemm(INDArray c, INDArray a, INDArray b, boolean transA, boolean transB,
      double alpha, double beta) {
    if (RowGemm.AVAILABLE && c.rank() == 2 && a.rank() == 2 && b.rank() == 2 && Fused.accepts(c, a, b)) {
      // The same cblas_sgemm Nd4j.gemm calls, without its per-call argument objects and checks
      // (several times the cost of the small products of a classifier-sized Transformer).
      RowGemm.matmul(c, a, transA, b, transB, (float) alpha, (float) beta);
      return;
    }
    Nd4j.gemm(a, b, c, transA, transB, alpha, beta);
  }

  /**
   * Batched matrix product over the leading dimensions with libnd4j's "matmul" custom op:
   * {@code z = alpha * op(x) @ op(y) + beta * z}, e.g. [B, NH, T, HS] x [B, NH, HS, T].
   * The output is preallocated; ND4J's INDArray matmul on 3-D/4-D arrays allocates and is ~10x slower.
   */
  public static void bmm(INDArray z, INDArray x, INDArray y, boolean transX, boolean transY,
      double alpha, double beta) {
    Nd4j.exec(DynamicCustomOp.builder("matmul")
        .addInputs(x, y)
        .addOutputs(z)
        .addIntegerArguments(transX ? 1 : 0, transY ? 1 : 0, 0)
        .addFloatingPointArguments(alpha, beta)
        .build());
  }

  /**
   * {@code out += alpha * (column sums of inp)}, i.e. out[j] += alpha * sum_i inp[i, j]: in float32
   * one pass of the fused ColumnSumKernel; otherwise a gemm with a ones row vector, much cheaper
   * than ND4J's sum over dimension 0 (measured 3-4x slower than the fused pass).
   *
   * @param out  [N] or [1, N], contiguous
   * @param inp  [M, N]
   * @param ones [1, M'] all ones with M' >= M; its first M entries are used
   */
  public static void addColumnSums(INDArray out, INDArray inp, INDArray ones, double alpha) {
    if (Fused.accepts(out, inp)) {
      ColumnSumKernel.add(out, inp, alpha);
      return;
    }
    long m = inp.size(0);
    INDArray onesRow = ones.length() == m ? ones.reshape(1, m) : ones.reshape(ones.length()).get(
        NDArrayIndex.interval(0, m)).reshape(1, m);
    gemm(out.reshape(1, inp.size(1)), onesRow, inp, false, false, alpha, 1.0);
  }

  /**
   * {@code z = x + y} with numpy-style broadcasting of y (e.g. [C] or [1, C] over rows, [N, 1] over
   * columns, [T, T] over [B, NH, T, T]). This is libnd4j's pairwise "add" custom op; the legacy
   * BroadcastAddOp is as fast along the last dimension but ~30x slower along dimension 0.
   */
  public static void broadcastAdd(INDArray z, INDArray x, INDArray y) {
    Nd4j.exec(new AddOp(new INDArray[] {x, y}, new INDArray[] {z}));
  }

  /** {@code z = x - y} with numpy-style broadcasting of y; see {@link #broadcastAdd}. */
  public static void broadcastSub(INDArray z, INDArray x, INDArray y) {
    Nd4j.exec(new SubOp(new INDArray[] {x, y}, new INDArray[] {z}));
  }

  /** {@code z = x * y} with numpy-style broadcasting of y; see {@link #broadcastAdd}. */
  public static void broadcastMul(INDArray z, INDArray x, INDArray y) {
    Nd4j.exec(new MulOp(new INDArray[] {x, y}, new INDArray[] {z}));
  }

  /**
   * The index of {@code a}'s first element in {@code a.data()}, for plain loops over a contiguous
   * array's DataBuffer. It is not always {@code a.offset()}: ND4J gives a view with an offset a
   * DataBuffer that already starts at the view (its originalOffset), while offset() still counts
   * from the start of the original buffer.
   */
  public static long bufferIndex(INDArray a) {
    return a.offset() - a.data().originalOffset();
  }

  /** The [N, 1] column view of a contiguous [N] vector, for broadcasting one value per row. */
  public static INDArray column(INDArray vector) {
    return vector.reshape(vector.length(), 1);
  }
}
