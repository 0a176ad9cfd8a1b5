/*
 * Int8Matrix: a 2-D float32 weight quantised symmetrically to int8 with one float32 scale per
 * output channel, and the quantise/dequantise rules of that scheme. It holds the values on the
 * Java heap and does no matmul (Int8Matmul does) and no I/O (Int8ModelFile does).
 */
package org.ringtrain.ops.quant;

import java.util.Arrays;

/**
 * {@code w[i][j] ≈ q[i][j] * scale[channel]} with {@code q} in [-127, 127]: the channel is the
 * column j for a linear weight [in, out] (GPT-2's Conv1D layout, {@link Axis#COLUMNS}) and the row
 * i for an embedding table [V, C] ({@link Axis#ROWS}, whose rows are the tied LM head's output
 * channels). The scale of a channel is {@code max |w| / 127} over that channel, so the largest
 * weight maps to ±127 exactly, and round-to-nearest bounds the error of every element:
 * {@code |w - q * scale| <= scale / 2} (up to one float32 rounding of the product). -128 is never
 * used, keeping the range symmetric. A channel of zeros gets scale 0 and dequantises to zeros.
 *
 * @param rows  first dimension
 * @param cols  second dimension
 * @param axis  which dimension holds the output channels
 * @param q     the int8 values, row-major [rows, cols]
 * @param scale one scale per channel: cols of them for COLUMNS, rows for ROWS
 */
public record Int8Matrix(int rows, int cols, Axis axis, byte[] q, float[] scale) {

  /** Largest magnitude of a quantised value: 127 (symmetric, -128 unused). */
  public static final int QMAX = 127;

  /** Where a matrix's output channels lie. */
  public enum Axis {
    /** Channels are columns: a linear weight [in, out]. */
    COLUMNS,
    /** Channels are rows: an embedding table [V, C], also the tied head's weight. */
    ROWS
  }

  /** Checks the sizes; arrays are kept, not copied. */
  public Int8Matrix {
    if (rows < 1 || cols < 1 || q.length != (long) rows * cols
        || scale.length != (axis == Axis.COLUMNS ? cols : rows)) {
      throw new IllegalArgumentException("an int8 matrix [" + rows + ", " + cols + "] by " + axis + " needs "
          + ((long) rows * cols) + " values and " + (axis == Axis.COLUMNS ? cols : rows) + " scales, but found "
          + q.length + " and " + scale.length);
    }
  }

  /** Channels: cols for COLUMNS, rows for ROWS. */
  public int channels() {
    return scale.length;
  }

  /**
   * Quantises {@code w}, row-major [rows, cols], per channel of {@code axis}.
   *
   * @throws IllegalArgumentException for a NaN or infinite weight, which no scale can represent
   */
  public static Int8Matrix quantize(float[] w, int rows, int cols, Axis axis) {
    if (w.length != (long) rows * cols) {
      throw new IllegalArgumentException("expected " + ((long) rows * cols) + " weights for [" + rows + ", " + cols
          + "], but found " + w.length);
    }
    boolean byCol = axis == Axis.COLUMNS;
    float[] max = new float[byCol ? cols : rows];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        float v = w[i * cols + j];
        if (!Float.isFinite(v)) {
          throw new IllegalArgumentException("weight [" + i + ", " + j + "] is " + v + "; a model with non-finite"
              + " weights cannot be quantised: quantise an earlier checkpoint");
        }
        int c = byCol ? j : i;
        max[c] = Math.max(max[c], Math.abs(v));
      }
    }
    float[] scale = new float[max.length];
    for (int c = 0; c < max.length; c++) {
      scale[c] = max[c] / QMAX;
    }
    byte[] q = new byte[w.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        float s = scale[byCol ? j : i];
        // In double, so the only rounding is round-to-nearest to the integer grid.
        long v = s == 0 ? 0 : Math.round((double) w[i * cols + j] / s);
        q[i * cols + j] = (byte) Math.max(-QMAX, Math.min(QMAX, v));
      }
    }
    return new Int8Matrix(rows, cols, axis, q, scale);
  }

  /** The scale of element [i, j]'s channel. */
  public float scaleOf(int i, int j) {
    return scale[axis == Axis.COLUMNS ? j : i];
  }

  /** All values dequantised, row-major [rows, cols]: for tests and tools only, never for inference. */
  public float[] dequantize() {
    float[] w = new float[q.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        w[i * cols + j] = q[i * cols + j] * scaleOf(i, j);
      }
    }
    return w;
  }

  /** Row {@code i} dequantised into {@code out[from .. from + cols)}. */
  public void dequantizeRow(int i, float[] out, int from) {
    int base = i * cols;
    if (axis == Axis.ROWS) {
      float s = scale[i];
      for (int j = 0; j < cols; j++) {
        out[from + j] = q[base + j] * s;
      }
    } else {
      for (int j = 0; j < cols; j++) {
        out[from + j] = q[base + j] * scale[j];
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Int8Matrix m && rows == m.rows && cols == m.cols && axis == m.axis
        && Arrays.equals(q, m.q) && Arrays.equals(scale, m.scale);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(q) + Arrays.hashCode(scale);
  }

  @Override
  public String toString() {
    return "Int8Matrix[" + rows + ", " + cols + "] by " + axis;
  }
}
