// How float32 values travel between ranks. Accumulation is always float32;
// only the bytes on the wire change.
package org.ringtrain.sync;

/**
 * Encoding of float32 values on the wire.
 *
 * <p>{@link #BF16} halves the bytes sent. Every hop of the reduce-scatter rounds the partial sum
 * to bfloat16 (round to nearest even, unit roundoff u = 2^-8) and the owner rounds the final
 * value once more, so for a SUM over N ranks each element satisfies
 * {@code |result - exact| <= N * 2^-8 * sum_i |x_i|} (for AVERAGE divide the bound by N).
 * All ranks still end bitwise equal: the owner keeps exactly the bf16 value it sends.
 */
public enum WireCodec {
  /** Raw little-endian float32: exact, 4 bytes per element. Default. */
  FP32(4),
  /** bfloat16 (the upper half of a float32), 2 bytes per element; see the class doc for the bound. */
  BF16(2);

  private final int bytesPerElement;

  WireCodec(int bytesPerElement) {
    this.bytesPerElement = bytesPerElement;
  }

  /** Bytes one float32 element occupies on the wire. */
  public int bytesPerElement() {
    return bytesPerElement;
  }
}
