// Turns an ND4J array into the direct ByteBuffer the ring works on, without a
// copy: the buffer is the array's own off-heap memory. Refuses arrays whose
// elements are not one dense float32 run, because the ring would then reduce
// the wrong bytes.
package org.ringtrain.sync.nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Zero-copy float32 regions of ND4J arrays for {@link org.ringtrain.sync.RingCommunicator}. */
public final class Nd4jRegions {

  private Nd4jRegions() {
  }

  /**
   * The whole backing buffer of a dense float32 array, little-endian; pair it with
   * {@link #offset(INDArray)} and {@code length()} to address the array itself.
   */
  public static ByteBuffer buffer(INDArray array) {
    if (array.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException("the ring reduces float32 arrays, but found " + array.dataType()
          + "; cast with array.castTo(DataType.FLOAT) into the buffer you train with");
    }
    if (!isDense(array)) {
      throw new IllegalArgumentException("the ring needs a dense array (one contiguous run of elements), but found "
          + "shape " + java.util.Arrays.toString(array.shape()) + " with strides "
          + java.util.Arrays.toString(array.stride()) + "; reduce the flat buffer the array is a view of");
    }
    return array.data().asNio().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Float index in {@link #buffer(INDArray)} of the array's first element. */
  public static int offset(INDArray array) {
    return Math.toIntExact(array.offset());
  }

  /** Elements of the array, as an int (the ring addresses up to 2^31-1 floats per region). */
  public static int length(INDArray array) {
    return Math.toIntExact(array.length());
  }

  private static boolean isDense(INDArray array) {
    if (array.length() <= 1) {
      return true;
    }
    long expected = 1;
    long[] shape = array.shape();
    long[] stride = array.stride();
    for (int d = shape.length - 1; d >= 0; d--) {
      if (shape[d] != 1 && stride[d] != expected) {
        return false;
      }
      expected *= shape[d];
    }
    return array.ordering() == 'c' || shape.length <= 1;
  }
}
