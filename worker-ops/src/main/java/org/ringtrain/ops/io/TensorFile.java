/*
 * TensorFile: reads and writes a safetensors file as a map of named tensors of mixed dtype (F32
 * and I8) held on the Java heap, for files that are not one flat float32 parameter buffer, such
 * as int8 quantised models. It is not the checkpoint path (SafetensorsWriter/SafetensorsReader
 * stream a flat buffer without heap copies) and it does not interpret the tensors.
 */
package org.ringtrain.ops.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A safetensors file's tensors and metadata, whole. Tensor data is little-endian, as in the file;
 * each tensor must fit a Java array (under 2 GiB). Only the dtypes in {@link #DTYPES} are read.
 */
public final class TensorFile {

  /** Metadata key naming the quantisation scheme of a quantised model file. */
  public static final String QUANTIZATION_KEY = "ringtrain.quantization";

  /** The dtypes this class reads and writes. */
  public static final Set<String> DTYPES = Set.of(SafetensorsHeader.F32, SafetensorsHeader.I8);

  /**
   * One tensor.
   *
   * @param dtype "F32" or "I8"
   * @param shape its shape
   * @param data  its bytes, little-endian, exactly elements * dtype width long
   */
  public record Tensor(String dtype, long[] shape, byte[] data) {

    /** Elements: the product of the shape. */
    public long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }

    /** An F32 tensor holding {@code values}. */
    public static Tensor f32(long[] shape, float[] values) {
      ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(values);
      return new Tensor(SafetensorsHeader.F32, shape, b.array());
    }

    /** An I8 tensor holding {@code values} (not copied). */
    public static Tensor i8(long[] shape, byte[] values) {
      return new Tensor(SafetensorsHeader.I8, shape, values);
    }

    /** The values of an F32 tensor. */
    public float[] floats() {
      float[] out = new float[data.length / Float.BYTES];
      ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return out;
    }

    @Override
    public String toString() {
      return dtype + Arrays.toString(shape);
    }
  }

  /**
   * A file's contents.
   *
   * @param metadata its {@code __metadata__}
   * @param tensors  its tensors by name, in file order
   */
  public record Contents(Map<String, String> metadata, Map<String, Tensor> tensors) {
  }

  private TensorFile() {
  }

  /**
   * Writes {@code tensors} (in map order) and {@code metadata} as a safetensors file to {@code out},
   * then flushes it.
   *
   * @throws IllegalArgumentException for a dtype outside {@link #DTYPES} or data that does not match its shape
   */
  public static void write(Map<String, Tensor> tensors, Map<String, String> metadata, OutputStream out)
      throws IOException {
    List<SafetensorsHeader.Entry> entries = new ArrayList<>(tensors.size());
    long begin = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      if (!DTYPES.contains(t.dtype()) || t.data().length != t.elements() * width(t.dtype())) {
        throw new IllegalArgumentException("tensor '" + e.getKey() + "' must be one of " + DTYPES + " with "
            + "elements x width bytes of data, but found " + t + " with " + t.data().length + " bytes");
      }
      entries.add(new SafetensorsHeader.Entry(e.getKey(), t.dtype(), t.shape(), begin, begin + t.data().length));
      begin += t.data().length;
    }
    byte[] header = new SafetensorsHeader(new LinkedHashMap<>(metadata), entries).encode();
    out.write(ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
    out.write(header);
    for (Tensor t : tensors.values()) {
      out.write(t.data());
    }
    out.flush();
  }

  /**
   * Reads a whole safetensors file.
   *
   * @param in     the file's bytes from the start; read to the end, not closed
   * @param size   the file's size, or -1 if unknown (then truncation shows as an EOF while reading)
   * @param source how messages name the file
   * @throws SafetensorsException for a corrupt or truncated file, or a dtype outside {@link #DTYPES}
   */
  public static Contents read(InputStream in, long size, String source) throws IOException {
    SafetensorsHeader.Framed framed = SafetensorsHeader.read(in, size, source);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (SafetensorsHeader.Entry e : framed.header().entries()) {
      if (!DTYPES.contains(e.dtype())) {
        throw new SafetensorsException(source + ": tensor '" + e.name() + "' has dtype " + e.dtype()
            + ", expected one of " + DTYPES + "; convert the file (float32 weights, int8 from ringtrain quantize)");
      }
      long bytes = e.end() - e.begin();
      if (bytes > Integer.MAX_VALUE - 8) {
        throw new SafetensorsException(source + ": tensor '" + e.name() + "' has " + bytes + " bytes, more than"
            + " one Java array holds (2 GiB); such a model is too large for this reader");
      }
      byte[] data = in.readNBytes((int) bytes);
      if (data.length < bytes) {
        throw new SafetensorsException(source + " is truncated: " + new EOFException("tensor '" + e.name()
            + "' needs " + bytes + " bytes, found " + data.length).getMessage() + "; use an intact copy");
      }
      tensors.put(e.name(), new Tensor(e.dtype(), e.shape(), data));
    }
    if (in.read() >= 0) {
      throw new SafetensorsException(source + " has trailing bytes after the last tensor: expected "
          + framed.fileBytes() + " bytes in total; the file is corrupt");
    }
    return new Contents(Collections.unmodifiableMap(framed.header().metadata()), Collections.unmodifiableMap(tensors));
  }

  private static int width(String dtype) {
    return SafetensorsHeader.I8.equals(dtype) ? 1 : Float.BYTES;
  }
}
