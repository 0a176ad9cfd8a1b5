/*
 * ParameterBuffer: one contiguous ND4J array holding every tensor of a ParameterLayout, with a named
 * view per tensor. Parameters, gradients and optimizer moments each use one. It does not
 * initialise values (see GptInit) and does no I/O.
 */
package org.ringtrain.ops.param;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A flat 1-D buffer [totalElements] plus a view of each tensor in GPT-2 shape. Every view shares
 * the flat buffer's memory, so writing through a view changes the flat buffer and the other way
 * round; {@link #asByteBuffer()} exposes the same memory to the all-reduce without a copy.
 *
 * <p>Memory: {@code totalElements * dataType.width()} bytes off-heap, released by {@link #close()}
 * (or, if never closed, by ND4J when the Java object is garbage collected).
 */
public final class ParameterBuffer implements AutoCloseable {

  private final ParameterLayout layout;
  private final INDArray flat; // [totalElements]
  private final Map<String, INDArray> views = new HashMap<>();

  private ParameterBuffer(ParameterLayout layout, INDArray flat) {
    this.layout = layout;
    this.flat = flat;
    for (ParameterLayout.TensorSpec t : layout.tensors()) {
      INDArray view = flat.get(NDArrayIndex.interval(t.offset(), t.offset() + t.length())).reshape(t.shape());
      if (view.data().address() != flat.data().address() || view.offset() != t.offset()) {
        throw new IllegalStateException("ND4J returned a copy instead of a view for " + t
            + "; the flat-buffer contract needs views");
      }
      views.put(t.name(), view);
    }
  }

  /** A zero-filled float32 buffer for this layout: the type used for training and the all-reduce. */
  public static ParameterBuffer zeros(ParameterLayout layout) {
    return zeros(layout, DataType.FLOAT);
  }

  /** A zero-filled buffer of the given floating-point type (FLOAT in training, DOUBLE in gradient checks). */
  public static ParameterBuffer zeros(ParameterLayout layout, DataType dataType) {
    if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
      throw new IllegalArgumentException("a parameter buffer must be FLOAT or DOUBLE, but found " + dataType);
    }
    return new ParameterBuffer(layout, Nd4j.zeros(dataType, layout.totalElements()));
  }

  /** The layout of this buffer. */
  public ParameterLayout layout() {
    return layout;
  }

  /** The flat 1-D array [totalElements]. */
  public INDArray flat() {
    return flat;
  }

  /** The element type: FLOAT or DOUBLE. */
  public DataType dataType() {
    return flat.dataType();
  }

  /** The view of one tensor, in its GPT-2 shape; IllegalArgumentException for an unknown name. */
  public INDArray view(String name) {
    INDArray view = views.get(name);
    if (view == null) {
      layout.get(name);
    }
    return view;
  }

  /** A direct ByteBuffer over the whole flat buffer's memory, in native byte order; no copy. */
  public ByteBuffer asByteBuffer() {
    return flat.data().asNio().order(ByteOrder.nativeOrder());
  }

  /**
   * SHA-256 of the values, in buffer order as little-endian floats of this buffer's type, as 64
   * hex digits: two buffers of the same layout and type have the same digest exactly when they
   * hold the same bits. Reads the off-heap memory directly, 1 MiB at a time, allocating nothing large.
   */
  public String sha256() {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256, which every Java platform must provide", e);
    }
    ByteBuffer all = asByteBuffer();
    ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    int width = flat.dataType().width();
    for (int at = 0; at < all.limit(); at += chunk.capacity()) {
      int n = Math.min(chunk.capacity(), all.limit() - at);
      chunk.clear();
      // Copied element by element into little-endian order, so the digest does not depend on the host.
      for (int i = 0; i < n; i += width) {
        if (width == Float.BYTES) {
          chunk.putFloat(all.getFloat(at + i));
        } else {
          chunk.putDouble(all.getDouble(at + i));
        }
      }
      md.update(chunk.flip());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Sets every element to zero. */
  public void zero() {
    flat.assign(0);
  }

  /** Copies all values from another buffer of the same layout (types may differ). */
  public void copyFrom(ParameterBuffer other) {
    if (other.layout.totalElements() != layout.totalElements()) {
      throw new IllegalArgumentException("cannot copy a buffer of " + other.layout.totalElements()
          + " elements into one of " + layout.totalElements() + "; the layouts differ");
    }
    flat.assign(other.flat);
  }

  /** Off-heap bytes held: {@code totalElements * element width}. */
  public long bytes() {
    return layout.totalElements() * flat.dataType().width();
  }

  /** Releases the off-heap memory now; the buffer and its views must not be used afterwards. */
  @Override
  public void close() {
    if (!flat.wasClosed()) {
      flat.close();
    }
  }
}
