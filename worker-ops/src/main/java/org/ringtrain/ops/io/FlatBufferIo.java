/*
 * FlatBufferIo: streams ranges of a 1-D float32 INDArray to and from byte streams as raw
 * little-endian floats, through one reusable heap chunk and never through per-tensor INDArray
 * copies. It is not a file format: no header, no checksum; the formats that use it
 * (safetensors, optimizer state) add those.
 */
package org.ringtrain.ops.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Raw little-endian float32 streaming of flat buffer ranges.
 *
 * <p>The flat buffer's off-heap memory is read through {@code data().asNio()}, in native byte
 * order, and converted to or from little-endian in chunks of {@link #CHUNK_BYTES}; on a
 * little-endian machine the conversion is a plain copy. The buffer may be a view, as long as it
 * is contiguous (element-wise stride 1).
 */
public final class FlatBufferIo {

  /** Bytes moved per chunk: 1 MiB, large enough that per-call overhead does not show. */
  public static final int CHUNK_BYTES = 1 << 20;

  private static final int CHUNK_FLOATS = CHUNK_BYTES / Float.BYTES;

  private FlatBufferIo() {
  }

  /**
   * Checks that {@code flat} can be streamed: float32, contiguous, exactly {@code expectedLength}
   * elements.
   *
   * @param what           how the caller names the buffer in messages, e.g. "params"
   * @param flat           the buffer to check
   * @param expectedLength the element count the caller's layout demands
   * @throws IllegalArgumentException naming what is wrong and the values found
   */
  public static void checkFlat(String what, INDArray flat, long expectedLength) {
    if (flat == null) {
      throw new IllegalArgumentException(what + " must not be null; pass the flat float32 buffer of "
          + expectedLength + " elements");
    }
    if (flat.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException(what + " must be a FLOAT buffer, but found dataType "
          + flat.dataType() + "; create it with Nd4j.create(DataType.FLOAT, " + expectedLength + ")");
    }
    if (flat.length() != expectedLength) {
      throw new IllegalArgumentException(what + " must have " + expectedLength
          + " elements (the layout's totalElements), but found " + flat.length()
          + "; was it built for another ModelConfig?");
    }
    if (expectedLength > 1 && flat.elementWiseStride() != 1) {
      throw new IllegalArgumentException(what + " must be contiguous (element-wise stride 1), but found stride "
          + flat.elementWiseStride() + "; pass the flat buffer itself, not a strided view");
    }
  }

  /**
   * Writes {@code count} floats of {@code flat}, starting at element {@code from}, to {@code out}
   * as little-endian float32.
   *
   * @param flat  a contiguous float32 buffer (checked by the caller with {@link #checkFlat})
   * @param from  first element to write
   * @param count number of elements to write
   * @param out   destination; not closed, not flushed
   * @param chunk a scratch array of at least {@link #CHUNK_BYTES} bytes, reused across calls
   * @throws IOException from {@code out}
   */
  public static void write(INDArray flat, long from, long count, OutputStream out, byte[] chunk)
      throws IOException {
    checkRange(flat, from, count);
    FloatBuffer src = floats(flat);
    ByteBuffer chunkBytes = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer chunkFloats = chunkBytes.asFloatBuffer();
    long base = flat.offset() + from;
    long done = 0;
    while (done < count) {
      int n = (int) Math.min(CHUNK_FLOATS, count - done);
      int at = Math.toIntExact(base + done);
      chunkFloats.clear();
      // A bulk put between buffers of different byte order swaps; of equal order it copies.
      chunkFloats.put(src.limit(at + n).position(at));
      out.write(chunk, 0, n * Float.BYTES);
      done += n;
    }
  }

  /**
   * Reads {@code count} little-endian float32 values from {@code in} into {@code flat}, starting at
   * element {@code from}.
   *
   * @param in    source, positioned at the first byte of the range
   * @param flat  a contiguous float32 buffer (checked by the caller with {@link #checkFlat})
   * @param from  first element to fill
   * @param count number of elements to read
   * @param chunk a scratch array of at least {@link #CHUNK_BYTES} bytes, reused across calls
   * @param what  how messages name the data, e.g. "tensor 'wte.weight'"
   * @throws EOFException if the stream ends early, with the bytes expected and found
   * @throws IOException  from {@code in}
   */
  public static void read(InputStream in, INDArray flat, long from, long count, byte[] chunk, String what)
      throws IOException {
    checkRange(flat, from, count);
    FloatBuffer dst = floats(flat);
    ByteBuffer chunkBytes = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer chunkFloats = chunkBytes.asFloatBuffer();
    long base = flat.offset() + from;
    long done = 0;
    while (done < count) {
      int n = (int) Math.min(CHUNK_FLOATS, count - done);
      int got = in.readNBytes(chunk, 0, n * Float.BYTES);
      if (got != n * Float.BYTES) {
        throw new EOFException("truncated data for " + what + ": expected " + count * Float.BYTES
            + " bytes, found " + (done * Float.BYTES + got) + "; the file was cut short, use an earlier copy");
      }
      int at = Math.toIntExact(base + done);
      dst.limit(at + n).position(at);
      dst.put(chunkFloats.clear().limit(n));
      done += n;
    }
  }

  /**
   * Skips exactly {@code bytes} bytes of {@code in}.
   *
   * @throws EOFException if the stream ends first, naming {@code what}
   */
  public static void skip(InputStream in, long bytes, String what) throws IOException {
    long left = bytes;
    while (left > 0) {
      long skipped = in.skip(left);
      if (skipped <= 0) {
        if (in.read() < 0) {
          throw new EOFException("truncated data for " + what + ": expected " + bytes + " bytes, found "
              + (bytes - left) + "; the file was cut short, use an earlier copy");
        }
        skipped = 1;
      }
      left -= skipped;
    }
  }

  private static FloatBuffer floats(INDArray flat) {
    // asNio() spans the whole underlying buffer from its start, so views index it by offset().
    return flat.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  private static void checkRange(INDArray flat, long from, long count) {
    if (from < 0 || count < 0 || from + count > flat.length()) {
      throw new IllegalArgumentException("range [" + from + ", " + (from + count) + ") is outside the buffer of "
          + flat.length() + " elements");
    }
  }
}
