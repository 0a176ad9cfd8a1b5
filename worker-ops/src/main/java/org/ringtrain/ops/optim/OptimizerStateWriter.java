/*
 * OptimizerStateWriter: writes an optimizer's state (kind, hyper-parameters, step count, moment
 * buffers) in ringtrain's versioned, checksummed optimizer-state format, read back by
 * OptimizerStateReader. It is not a whole checkpoint: parameters go to safetensors, and the driver
 * writes both atomically next to each other.
 */
package org.ringtrain.ops.optim;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.io.FlatBufferIo;

/**
 * Writes optimizer state, format version {@value #FORMAT_VERSION}. All numbers little-endian:
 * <pre>
 *   bytes  field
 *   4      magic "RTOS" (ASCII)
 *   4      int32   format version, 1
 *   4      int32   kind: 1 = AdamW, 2 = Sgd
 *   8      int64   N, elements of the parameter layout
 *   8      int64   steps taken
 *   4      int32   H, number of hyper-parameters
 *   8*H    float64 hyper-parameters: AdamW lr, beta1, beta2, eps, weightDecay;
 *                  Sgd lr, momentum, dampening, weightDecay, nesterov (1 or 0)
 *   4      int32   K, number of state buffers: AdamW 2 (m, v), Sgd 1 (momentum); 0 before the first
 *                  step, and for Sgd without momentum
 *   4*N*K  float32 the buffers, each in the parameter layout
 *   8      int64   CRC32 of every byte before it
 * </pre>
 */
public final class OptimizerStateWriter {

  /** The 4 ASCII bytes every optimizer state file starts with. */
  public static final String MAGIC = "RTOS";

  /** The format version this writer writes. */
  public static final int FORMAT_VERSION = 1;

  /** Kind code of {@link AdamW}. */
  static final int KIND_ADAMW = 1;

  /** Kind code of {@link Sgd}. */
  static final int KIND_SGD = 2;

  /** Bytes of the fixed part of the header, up to and including H. */
  static final int FIXED_HEADER_BYTES = 4 + 4 + 4 + 8 + 8 + 4;

  private OptimizerStateWriter() {
  }

  /**
   * Writes {@code optimizer}'s state to {@code file}, replacing it if it exists.
   *
   * @throws IOException from the file system
   */
  public static void write(Optimizer optimizer, Path file) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), FlatBufferIo.CHUNK_BYTES)) {
      write(optimizer, out);
    }
  }

  /**
   * Writes {@code optimizer}'s state to {@code out}, then flushes it.
   *
   * @param optimizer an open optimizer; its state is read, not changed
   * @param out       destination; flushed, not closed
   * @throws IOException from {@code out}
   */
  public static void write(Optimizer optimizer, OutputStream out) throws IOException {
    if (optimizer == null) {
      throw new IllegalArgumentException("optimizer must not be null");
    }
    int kind;
    double[] hyper;
    List<INDArray> buffers;
    if (optimizer instanceof AdamW a) {
      AdamW.Config c = a.config();
      kind = KIND_ADAMW;
      hyper = new double[] {c.lr(), c.beta1(), c.beta2(), c.eps(), c.weightDecay()};
      buffers = a.firstMoment() == null ? List.of() : List.of(a.firstMoment(), a.secondMoment());
    } else {
      Sgd s = (Sgd) optimizer;
      Sgd.Config c = s.config();
      kind = KIND_SGD;
      hyper = new double[] {c.lr(), c.momentum(), c.dampening(), c.weightDecay(), c.nesterov() ? 1.0 : 0.0};
      buffers = s.momentumBuffer() == null ? List.of() : List.of(s.momentumBuffer());
    }
    long n = optimizer.layout().totalElements();
    ByteBuffer header = ByteBuffer.allocate(FIXED_HEADER_BYTES + Double.BYTES * hyper.length + Integer.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN);
    header.put(MAGIC.getBytes(StandardCharsets.US_ASCII)).putInt(FORMAT_VERSION).putInt(kind)
        .putLong(n).putLong(optimizer.stepCount()).putInt(hyper.length);
    for (double h : hyper) {
      header.putDouble(h);
    }
    header.putInt(buffers.size());
    CheckedOutputStream checked = new CheckedOutputStream(out, new CRC32());
    checked.write(header.array());
    byte[] chunk = new byte[FlatBufferIo.CHUNK_BYTES];
    for (INDArray b : buffers) {
      FlatBufferIo.write(b, 0, n, checked, chunk);
    }
    long crc = checked.getChecksum().getValue();
    out.write(ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(crc).array());
    out.flush();
  }

  /** Total bytes of a version-1 file with {@code hyper} hyper-parameters and {@code buffers} buffers of N. */
  static long fileBytes(int hyper, int buffers, long n) {
    return FIXED_HEADER_BYTES + (long) Double.BYTES * hyper + Integer.BYTES + (long) Float.BYTES * n * buffers
        + Long.BYTES;
  }
}
