/*
 * PackKernel: moves rows between the padded layout of a batch ([B*T', K]: row b*T' + t is position t
 * of row b, positions past the row's length are padding) and its packed layout ([R, K]: the rows'
 * tokens one after another, then R - N slack rows), as one block copy per row. It computes
 * nothing; it is not the gather of an embedding (EmbeddingKernel) and knows no layer.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Row b's tokens are rows {@code offsets[b] .. offsets[b+1]-1} of the packed array and rows
 * {@code b*T' .. b*T' + len_b - 1} of the padded one: both contiguous, so each direction is B
 * memory copies plus the zeroing of the rows that have no counterpart (a padded row's padding,
 * the packed array's slack rows). Any element type; both arrays dense row-major, of one type, of
 * the same width K.
 */
public final class PackKernel {

  private static final byte[] ZEROS = new byte[64 * 1024];

  private PackKernel() {
  }

  /**
   * {@code padded[b*T' + t] = packed[offsets[b] + t]} for t below the row's length, 0 after it.
   *
   * @param padded  [B*T', K] overwritten
   * @param packed  [R, K], R at least offsets[B]
   * @param offsets B+1 row starts in the packed array, offsets[0] = 0
   * @param steps   T', at least every row's length
   */
  public static void toPadded(INDArray padded, INDArray packed, int[] offsets, int steps) {
    int rowBytes = rowBytes(padded, packed, offsets, steps);
    ByteBuffer to = Fused.elements(padded);
    ByteBuffer from = Fused.elements(packed);
    int blockBytes = steps * rowBytes;
    for (int b = 0; b + 1 < offsets.length; b++) {
      int tokenBytes = (offsets[b + 1] - offsets[b]) * rowBytes;
      to.put(b * blockBytes, from, offsets[b] * rowBytes, tokenBytes);
      zero(to, b * blockBytes + tokenBytes, blockBytes - tokenBytes);
    }
  }

  /**
   * {@code packed[offsets[b] + t] = padded[b*T' + t]} for t below the row's length; the slack rows
   * past offsets[B] are set to 0.
   *
   * @param packed  [R, K] overwritten
   * @param padded  [B*T', K]
   * @param offsets B+1 row starts in the packed array
   * @param steps   T'
   */
  public static void toPacked(INDArray packed, INDArray padded, int[] offsets, int steps) {
    int rowBytes = rowBytes(padded, packed, offsets, steps);
    ByteBuffer to = Fused.elements(packed);
    ByteBuffer from = Fused.elements(padded);
    int blockBytes = steps * rowBytes;
    int batch = offsets.length - 1;
    for (int b = 0; b < batch; b++) {
      to.put(offsets[b] * rowBytes, from, b * blockBytes, (offsets[b + 1] - offsets[b]) * rowBytes);
    }
    zero(to, offsets[batch] * rowBytes, (int) packed.size(0) * rowBytes - offsets[batch] * rowBytes);
  }

  private static void zero(ByteBuffer to, int at, int bytes) {
    for (int done = 0; done < bytes; done += ZEROS.length) {
      to.put(at + done, ZEROS, 0, Math.min(ZEROS.length, bytes - done));
    }
  }

  /** Bytes per row, after checking the shapes agree. */
  private static int rowBytes(INDArray padded, INDArray packed, int[] offsets, int steps) {
    int batch = offsets.length - 1;
    if (padded.rank() != 2 || packed.rank() != 2 || padded.size(1) != packed.size(1)
        || padded.dataType() != packed.dataType() || padded.size(0) != (long) batch * steps
        || packed.size(0) < offsets[batch]) {
      throw new IllegalArgumentException("packing needs a padded [B*T', K] = [" + batch + "*" + steps
          + ", K] and a packed [R >= " + offsets[batch] + ", K] array of one type, but found padded "
          + padded.dataType() + " " + Arrays.toString(padded.shape()) + " and packed " + packed.dataType() + " "
          + Arrays.toString(packed.shape()));
    }
    return (int) (packed.size(1) * packed.dataType().width());
  }
}
