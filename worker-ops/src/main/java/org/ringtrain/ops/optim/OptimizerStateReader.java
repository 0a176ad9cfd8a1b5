/*
 * OptimizerStateReader: reads optimizer state written by OptimizerStateWriter back into a working
 * AdamW or Sgd, refusing unknown format versions, truncated or corrupt files, and state saved for
 * another parameter layout. It never allocates more than the given layout's own size. It is not a
 * whole-checkpoint reader.
 */
package org.ringtrain.ops.optim;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.io.FlatBufferIo;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * Reads optimizer state (format described in {@link OptimizerStateWriter}) into a new optimizer
 * with the saved hyper-parameters, step count and moments, so that training continues with
 * bitwise the same next step as if it had never stopped.
 */
public final class OptimizerStateReader {

  /** Hyper-parameters of each kind in format version 1. */
  private static final int HYPER_V1 = 5;

  private OptimizerStateReader() {
  }

  /**
   * Reads the state in {@code file}. The file's size is checked against its header before any
   * buffer is allocated.
   *
   * @param file   a file written by {@link OptimizerStateWriter}
   * @param layout the parameter layout the optimizer will step; must match the saved one
   * @return an open {@link AdamW} or {@link Sgd}; the caller closes it
   * @throws IOException for an unknown version, a truncated or corrupt file, another layout, or I/O
   */
  public static Optimizer read(Path file, ParameterLayout layout) throws IOException {
    long size = Files.size(file);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), FlatBufferIo.CHUNK_BYTES)) {
      return read(in, size, layout, file.toString());
    }
  }

  /**
   * Reads the state from {@code in}, consuming exactly the bytes of one state.
   *
   * @param in     a stream positioned at the magic; not closed
   * @param layout the parameter layout the optimizer will step; must match the saved one
   * @return an open {@link AdamW} or {@link Sgd}; the caller closes it
   * @throws IOException for an unknown version, a truncated or corrupt stream, another layout, or I/O
   */
  public static Optimizer read(InputStream in, ParameterLayout layout) throws IOException {
    return read(in, -1, layout, "optimizer state stream");
  }

  private static Optimizer read(InputStream raw, long size, ParameterLayout layout, String source)
      throws IOException {
    if (layout == null) {
      throw new IllegalArgumentException("layout must not be null; pass GptModel.layout(modelConfig)");
    }
    CountingInputStream counting = new CountingInputStream(raw);
    CheckedInputStream in = new CheckedInputStream(counting, new CRC32());
    ByteBuffer start = ByteBuffer.wrap(readFully(in, 8, source, counting)).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = Arrays.copyOf(start.array(), 4);
    if (!Arrays.equals(magic, OptimizerStateWriter.MAGIC.getBytes(StandardCharsets.US_ASCII))) {
      throw new IOException(source + " is not optimizer state: expected magic \"" + OptimizerStateWriter.MAGIC
          + "\", found bytes " + Arrays.toString(magic) + "; pass the optimizer state file of a checkpoint");
    }
    int version = start.getInt(4);
    switch (version) {
      case 1:
        return readV1(in, counting, size, layout, source);
      default:
        throw new IOException(source + " has optimizer state format version " + version + ", but this build reads "
            + "only version " + OptimizerStateWriter.FORMAT_VERSION + ". HINT: it was written by another ringtrain "
            + "release; read it with that release, or restart the optimizer from fresh state");
    }
  }

  private static Optimizer readV1(CheckedInputStream in, CountingInputStream counting, long size,
      ParameterLayout layout, String source) throws IOException {
    ByteBuffer fixed = ByteBuffer.wrap(readFully(in, OptimizerStateWriter.FIXED_HEADER_BYTES - 8, source,
        counting)).order(ByteOrder.LITTLE_ENDIAN);
    int kind = fixed.getInt();
    long n = fixed.getLong();
    long steps = fixed.getLong();
    int hyperCount = fixed.getInt();
    if (kind != OptimizerStateWriter.KIND_ADAMW && kind != OptimizerStateWriter.KIND_SGD) {
      throw new IOException(source + " has unknown optimizer kind " + kind + ", expected "
          + OptimizerStateWriter.KIND_ADAMW + " (AdamW) or " + OptimizerStateWriter.KIND_SGD + " (Sgd); the file is "
          + "corrupt");
    }
    if (n != layout.totalElements()) {
      throw new IOException(source + " holds optimizer state for " + n + " parameters, but the layout has "
          + layout.totalElements() + " (" + layout + "); load it with the model config it was saved with");
    }
    if (steps < 0 || hyperCount != HYPER_V1) {
      throw new IOException(source + " has a corrupt header: steps=" + steps + " (expected >= 0), hyper-parameters="
          + hyperCount + " (expected " + HYPER_V1 + ")");
    }
    ByteBuffer rest = ByteBuffer.wrap(readFully(in, Double.BYTES * hyperCount + Integer.BYTES, source,
        counting)).order(ByteOrder.LITTLE_ENDIAN);
    double[] hyper = new double[hyperCount];
    for (int i = 0; i < hyperCount; i++) {
      hyper[i] = rest.getDouble();
    }
    int bufferCount = rest.getInt();
    AdamW.Config adam = null;
    Sgd.Config sgd = null;
    int expectedBuffers;
    try {
      if (kind == OptimizerStateWriter.KIND_ADAMW) {
        adam = new AdamW.Config(hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]);
        expectedBuffers = steps == 0 ? 0 : 2;
      } else {
        sgd = new Sgd.Config(hyper[0], hyper[1], hyper[2], hyper[3], hyper[4] != 0.0);
        expectedBuffers = steps == 0 || sgd.momentum() == 0.0 ? 0 : 1;
      }
    } catch (IllegalArgumentException e) {
      throw new IOException(source + " has invalid hyper-parameters " + Arrays.toString(hyper) + ": "
          + e.getMessage() + "; the file is corrupt", e);
    }
    if (bufferCount != expectedBuffers) {
      throw new IOException(source + " has " + bufferCount + " state buffers, expected " + expectedBuffers
          + " after " + steps + " steps; the file is corrupt");
    }
    long total = OptimizerStateWriter.fileBytes(hyperCount, bufferCount, n);
    if (size >= 0 && size != total) {
      throw new IOException(source + (size < total ? " is truncated" : " has trailing bytes") + ": expected "
          + total + " bytes, found " + size + (size < total ? "; the file was cut short, use an earlier checkpoint"
          : "; the file is corrupt"));
    }
    INDArray[] buffers = new INDArray[bufferCount];
    byte[] chunk = new byte[FlatBufferIo.CHUNK_BYTES];
    try {
      for (int i = 0; i < bufferCount; i++) {
        buffers[i] = Nd4j.createUninitialized(DataType.FLOAT, n);
        FlatBufferIo.read(in, buffers[i], 0, n, chunk, "state buffer " + i + " of " + source);
      }
      long computed = in.getChecksum().getValue();
      long stored = ByteBuffer.wrap(readFully(counting, Long.BYTES, source, counting))
          .order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (computed != stored) {
        throw new IOException(source + " fails its checksum: stored CRC32 " + Long.toHexString(stored)
            + ", computed " + Long.toHexString(computed) + "; the file is corrupt, use an earlier checkpoint");
      }
    } catch (IOException e) {
      for (INDArray b : buffers) {
        StepChecks.release(b);
      }
      if (e instanceof EOFException) {
        throw new IOException(source + " is truncated: expected " + total + " bytes, the data ended after "
            + counting.count() + " (" + e.getMessage() + ")", e);
      }
      throw e;
    }
    if (kind == OptimizerStateWriter.KIND_ADAMW) {
      return AdamW.restore(layout, adam, steps, bufferCount == 0 ? null : buffers[0],
          bufferCount == 0 ? null : buffers[1]);
    }
    return Sgd.restore(layout, sgd, steps, bufferCount == 0 ? null : buffers[0]);
  }

  private static byte[] readFully(InputStream in, int n, String source, CountingInputStream counting)
      throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length < n) {
      throw new IOException(source + " is truncated: expected " + n + " more bytes at offset "
          + (counting.count() - b.length) + ", found " + b.length + "; the file was cut short, use an earlier "
          + "checkpoint");
    }
    return b;
  }

  /** Counts the bytes read through it, for truncation messages. */
  private static final class CountingInputStream extends FilterInputStream {
    private long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    long count() {
      return count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int got = super.read(b, off, len);
      if (got > 0) {
        count += got;
      }
      return got;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(n);
      count += skipped;
      return skipped;
    }
  }
}
