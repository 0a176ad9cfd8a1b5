/*
 * Int8Matmul: float32 rows times an Int8Matrix, by one of two measured paths: int8 dot products
 * with the Vector API (the weights widened in registers), or dequantisation of one tile of rows
 * at a time into a small float32 scratch followed by sgemm. Neither materialises the whole float
 * weight. It holds the scratch of one caller thread; it does not quantise.
 */
package org.ringtrain.ops.quant;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.kernels.Fused;
import org.ringtrain.ops.kernels.Int8Kernel;
import org.ringtrain.ops.kernels.Parallel;

/**
 * {@code out[R, N] = inp[R, K] @ deq(w) + bias} for a linear weight (channels = columns), and
 * {@code out[R, V] = inp[R, C] @ deq(w)^T} for the tied head on an int8 embedding table (channels
 * = rows). Results equal the float32 product with the dequantised weights up to float rounding
 * (summation order differs).
 *
 * <p>{@link Path#VECTOR} (the default) runs {@link Int8Kernel}, or plain loops in a JVM without
 * the Vector API; {@link Path#TILED} dequantises {@value #TILE_ROWS} rows of the weight at a time
 * (a [64, N] float32 scratch, 384 KiB at N 1536) and multiplies with ND4J's gemm. bench/quantize.sh
 * measures both; docs/compression.md has the numbers. Not thread-safe: one per caller thread.
 */
public final class Int8Matmul implements AutoCloseable {

  /** The two ways to multiply. */
  public enum Path {
    /** int8 dot products with the Vector API: weights read one byte each, widened in registers. */
    VECTOR,
    /** Dequantise a tile of weight rows into a float32 scratch, then sgemm. */
    TILED
  }

  /** Rows of the weight dequantised per tile on the TILED path: 64. */
  public static final int TILE_ROWS = 64;

  private final Path path;
  private float[] x = new float[0];
  private float[] y = new float[0];
  private float[] tileHeap = new float[0];
  private INDArray tile; // [TILE_ROWS * N] float32, grown as needed

  /** A matmul with its own scratch, on {@code path}. */
  public Int8Matmul(Path path) {
    if (path == null) {
      throw new IllegalArgumentException("path must not be null; use Int8Matmul.Path.VECTOR (the default)");
    }
    this.path = path;
  }

  /** The path this instance runs. */
  public Path path() {
    return path;
  }

  /**
   * {@code out = inp @ deq(w) + bias} for a linear weight [K, N] by columns.
   *
   * @param out  [R, N] float32, dense row-major, overwritten
   * @param inp  [R, K] float32, dense row-major
   * @param w    [K, N], {@link Int8Matrix.Axis#COLUMNS}
   * @param bias N values, or null for none
   */
  public void linear(INDArray out, INDArray inp, Int8Matrix w, float[] bias) {
    int rows = (int) inp.size(0);
    check(out, inp, rows, w.rows(), w.cols(), w.axis() == Int8Matrix.Axis.COLUMNS, "linear");
    if (path == Path.TILED) {
      tiled(out, inp, w, bias);
      return;
    }
    int k = w.rows();
    int n = w.cols();
    float[] xs = load(inp, rows * k);
    float[] ys = output(rows * n);
    if (Fused.AVAILABLE) {
      int chunk = Math.max(Int8Kernel.BLOCK, (n / 8 + Int8Kernel.BLOCK - 1) / Int8Kernel.BLOCK * Int8Kernel.BLOCK);
      Parallel.forChunks(n, chunk, (from, to) -> Int8Kernel.columns(ys, xs, w.q(), w.scale(), bias, rows, k, n, from,
          to));
    } else {
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < n; j++) {
          float a = 0;
          for (int i = 0; i < k; i++) {
            a += xs[r * k + i] * w.q()[i * n + j];
          }
          ys[r * n + j] = a * w.scale()[j] + (bias == null ? 0 : bias[j]);
        }
      }
    }
    store(out, ys, rows * n);
  }

  /**
   * {@code out = inp @ deq(w)^T} for an embedding table [V, C] by rows: the tied LM head.
   *
   * @param out [R, V] float32, dense row-major, overwritten
   * @param inp [R, C] float32, dense row-major
   * @param w   [V, C], {@link Int8Matrix.Axis#ROWS}
   */
  public void head(INDArray out, INDArray inp, Int8Matrix w) {
    int rows = (int) inp.size(0);
    int v = w.rows();
    int c = w.cols();
    check(out, inp, rows, c, v, w.axis() == Int8Matrix.Axis.ROWS, "head");
    float[] xs = load(inp, rows * c);
    float[] ys = output(rows * v);
    if (Fused.AVAILABLE) {
      Parallel.forChunks(v, Math.max(16, v / 8), (from, to) -> Int8Kernel.rowDots(ys, xs, w.q(), w.scale(), rows, c, v,
          from, to));
    } else {
      for (int r = 0; r < rows; r++) {
        for (int ch = 0; ch < v; ch++) {
          float a = 0;
          for (int i = 0; i < c; i++) {
            a += xs[r * c + i] * w.q()[ch * c + i];
          }
          ys[r * v + ch] = a * w.scale()[ch];
        }
      }
    }
    store(out, ys, rows * v);
  }

  private void tiled(INDArray out, INDArray inp, Int8Matrix w, float[] bias) {
    int k = w.rows();
    int n = w.cols();
    if (tile == null || tile.length() < (long) TILE_ROWS * n) {
      if (tile != null) {
        tile.close();
      }
      tile = Nd4j.create(DataType.FLOAT, (long) TILE_ROWS * n);
      tileHeap = new float[TILE_ROWS * n];
    }
    FloatBuffer tileBuffer = floats(tile);
    for (int k0 = 0; k0 < k; k0 += TILE_ROWS) {
      int kt = Math.min(TILE_ROWS, k - k0);
      for (int i = 0; i < kt; i++) {
        w.dequantizeRow(k0 + i, tileHeap, i * n);
      }
      tileBuffer.position(0);
      tileBuffer.put(tileHeap, 0, kt * n);
      INDArray t = tile.get(NDArrayIndex.interval(0, (long) kt * n)).reshape(kt, n); // [kt, N]
      INDArray a = inp.get(NDArrayIndex.all(), NDArrayIndex.interval(k0, k0 + kt)); // [R, kt]
      Nd4j.gemm(a, t, out, false, false, 1.0, k0 == 0 ? 0.0 : 1.0);
    }
    if (bias != null) {
      out.addiRowVector(Nd4j.createFromArray(bias));
    }
  }

  private static void check(INDArray out, INDArray inp, int rows, int k, int n, boolean axisOk, String what) {
    if (!axisOk || inp.rank() != 2 || out.rank() != 2 || inp.size(1) != k || out.size(0) != rows
        || out.size(1) != n || inp.dataType() != DataType.FLOAT || out.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException("Int8Matmul." + what + ": expected float32 inp [R, " + k + "] and out [R, "
          + n + "] with a " + (what.equals("head") ? "ROWS" : "COLUMNS") + " weight, but found inp "
          + java.util.Arrays.toString(inp.shape()) + " " + inp.dataType() + ", out "
          + java.util.Arrays.toString(out.shape()) + " " + out.dataType() + "; pass matching arrays");
    }
  }

  private float[] load(INDArray a, int n) {
    if (x.length < n) {
      x = new float[n];
    }
    floats(a).get(x, 0, n);
    return x;
  }

  private float[] output(int n) {
    if (y.length < n) {
      y = new float[n];
    }
    return y;
  }

  private static void store(INDArray a, float[] values, int n) {
    floats(a).put(values, 0, n);
  }

  /** {@code a}'s elements as a float buffer over its own memory; {@code a} must be dense row-major. */
  private static FloatBuffer floats(INDArray a) {
    if (a.ordering() != 'c' || (a.length() > 1 && a.elementWiseStride() != 1)) {
      throw new IllegalArgumentException("Int8Matmul needs dense row-major arrays, but found strides "
          + java.util.Arrays.toString(a.stride()) + " order " + a.ordering() + "; pass a dup('c')");
    }
    FloatBuffer all = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    int first = (int) (a.offset() - a.data().originalOffset());
    return all.position(first).slice();
  }

  @Override
  public void close() {
    if (tile != null) {
      tile.close();
      tile = null;
    }
  }
}
