/*
 * PackedRows: the packed layout of a batch of variable-length rows (BERT-style "unpadding"): the
 * rows' tokens one after another, [R, C] with R the token count rounded up, instead of B rows of T'
 * positions each. A Transformer's token-wise layers (layer norms, linear layers, GELU, residual
 * adds, dropout) then compute only real tokens; attention alone needs the padded [B*T', ...]
 * layout, and the block moves its input and output across with toPadded / toPacked. It holds
 * no arrays and computes nothing; it does not decide which models pack (the model does).
 */
package org.ringtrain.ops.layers;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.kernels.PackKernel;

/**
 * Row b's tokens are packed rows {@code offset(b) .. offset(b) + length(b) - 1}; packed rows from
 * {@link #tokens()} to {@link #rows()} are slack: finite, never read by attention or pooling, and
 * with a gradient of exactly 0 (toPacked writes zeros there). Rounding the row count to a multiple
 * of {@link #ROW_MULTIPLE} keeps the number of distinct array shapes small, so the activation
 * arena's views of earlier steps are found again (see org.ringtrain.ops.param.Arena).
 */
public final class PackedRows {

  /** The packed row count is the token count rounded up to this (capped at B*T'). */
  public static final int ROW_MULTIPLE = 8;

  private final int[] offsets; // B+1
  private final int steps; // T'
  private final int rows; // R

  private PackedRows(int[] offsets, int steps, int rows) {
    this.offsets = offsets;
    this.steps = steps;
    this.rows = rows;
  }

  /**
   * The packing of rows of these lengths.
   *
   * @param lengths B row lengths, each in [1, steps]
   * @param steps   T', the longest row (the padded layout's positions per row)
   */
  public static PackedRows of(int[] lengths, int steps) {
    int[] offsets = new int[lengths.length + 1];
    for (int b = 0; b < lengths.length; b++) {
      if (lengths[b] < 1 || lengths[b] > steps) {
        throw new IllegalArgumentException("row lengths must be in [1, T'=" + steps + "], but found length "
            + lengths[b] + " for row " + b + "; T' is the longest row of the batch");
      }
      offsets[b + 1] = offsets[b] + lengths[b];
    }
    int tokens = offsets[lengths.length];
    int rounded = (tokens + ROW_MULTIPLE - 1) / ROW_MULTIPLE * ROW_MULTIPLE;
    return new PackedRows(offsets, steps, Math.min(rounded, lengths.length * steps));
  }

  /** B. */
  public int batch() {
    return offsets.length - 1;
  }

  /** T'. */
  public int steps() {
    return steps;
  }

  /** N, the real tokens of the batch. */
  public int tokens() {
    return offsets[offsets.length - 1];
  }

  /** R, the packed arrays' rows: N rounded up to {@link #ROW_MULTIPLE}, at most B*T'. */
  public int rows() {
    return rows;
  }

  /** Row b's first packed row. */
  public int offset(int b) {
    return offsets[b];
  }

  /** Row b's length. */
  public int length(int b) {
    return offsets[b + 1] - offsets[b];
  }

  /** The B row lengths; a copy. */
  public int[] lengths() {
    int[] lengths = new int[batch()];
    for (int b = 0; b < lengths.length; b++) {
      lengths[b] = length(b);
    }
    return lengths;
  }

  /** The B+1 row starts, offsets[B] = N; a copy. */
  public int[] offsets() {
    return offsets.clone();
  }

  /** {@code padded [B*T', K] = packed [R, K]} row by row, padding positions set to 0. */
  public void toPadded(INDArray padded, INDArray packed) {
    PackKernel.toPadded(padded, packed, offsets, steps);
  }

  /** {@code packed [R, K] = padded [B*T', K]} row by row, slack rows set to 0. */
  public void toPacked(INDArray packed, INDArray padded) {
    PackKernel.toPacked(packed, padded, offsets, steps);
  }

  @Override
  public String toString() {
    return "PackedRows[B=" + batch() + ", T'=" + steps + ", N=" + tokens() + ", R=" + rows + ", offsets="
        + Arrays.toString(offsets) + "]";
  }
}
