// A TensorBoard event file written on the driver from the metrics stream, on any
// Hadoop FileSystem: one scalar summary per metric per step, flushed (hflush)
// after every record so that TensorBoard shows a run while it trains (on
// filesystems that can flush; an object store shows the file when it closes).
// It is not a general TensorBoard writer: scalars only (no histograms, images,
// graphs or hparams), and it never reads event files back.
package org.ringtrain.driver.metrics;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.ringtrain.driver.fs.HadoopSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes training metrics as a TensorBoard event file {@code events.out.tfevents.<secs>.<host>}
 * under a log directory; open it with {@code tensorboard --logdir <dir>} (docs/monitoring.md).
 *
 * <p>Scalars written, with the metrics-stream field each comes from:
 * <ul>
 *   <li>step events: {@code train/loss} (loss), {@code lr}, {@code grad_norm}, {@code tokens_per_s},
 *       {@code time/step_ms}, {@code time/compute_ms}, {@code time/comm_exposed_ms}, {@code time/comm_span_ms},
 *       and {@code mfu} when an {@link Mfu} estimate is given;</li>
 *   <li>eval events: {@code val/loss} (val_loss) and {@code val/perplexity};</li>
 *   <li>resume events: a {@code SessionLog START} at the first step the run will redo, so that
 *       TensorBoard drops the orphaned points of a failed attempt instead of drawing both.</li>
 * </ul>
 * The wall time of each record is the event's own {@code time} field.
 *
 * <p>File format: TFRecord framing (little-endian uint64 length, masked CRC32C of the length, the
 * bytes, masked CRC32C of the bytes) around serialized {@code tensorboard.Event} messages
 * (tensorboard/compat/proto/event.proto and summary.proto); the first record is the
 * {@code file_version} event "brain.Event:2".
 *
 * <p>Why protobuf-java's {@link CodedOutputStream} rather than classes generated from the protos:
 * the writer needs five fields of three messages ({@code Event.wall_time = 1, step = 2,
 * file_version = 3, summary = 5, session_log = 7}; {@code Summary.value = 1};
 * {@code Summary.Value.tag = 1, simple_value = 2}; {@code SessionLog.status = 1}). Generating the
 * full Event/Summary closure would vendor a dozen .proto files and add protoc to the build for
 * those few numbers; {@code CodedOutputStream} still does all of the wire format (tags, varints,
 * little-endian doubles and floats, length prefixes). The field numbers are fixed by protobuf's
 * compatibility rules, and the test decodes the file with an independent reader.
 */
public final class TensorBoardWriter implements MetricsSink, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TensorBoardWriter.class);

  /** The version string TensorBoard expects in the first record of every event file. */
  public static final String FILE_VERSION = "brain.Event:2";

  /** Step-event fields and the TensorBoard tags they are written under, in this order. */
  static final List<Map.Entry<String, String>> STEP_SCALARS = List.of(
      Map.entry("loss", "train/loss"),
      Map.entry("lr", "lr"),
      Map.entry("grad_norm", "grad_norm"),
      Map.entry("tokens_per_s", "tokens_per_s"),
      Map.entry("step_ms", "time/step_ms"),
      Map.entry("compute_ms", "time/compute_ms"),
      Map.entry("comm_exposed_ms", "time/comm_exposed_ms"),
      Map.entry("comm_span_ms", "time/comm_span_ms"));

  /** Eval-event fields and their tags. */
  static final List<Map.Entry<String, String>> EVAL_SCALARS = List.of(
      Map.entry("val_loss", "val/loss"),
      Map.entry("perplexity", "val/perplexity"));

  /** The tag of the model-FLOPs-utilisation scalar (written only with an {@link Mfu}). */
  static final String MFU_TAG = "mfu";

  // Event fields (event.proto) and the nested messages' fields (summary.proto, SessionLog).
  private static final int EVENT_WALL_TIME = 1;
  private static final int EVENT_STEP = 2;
  private static final int EVENT_FILE_VERSION = 3;
  private static final int EVENT_SUMMARY = 5;
  private static final int EVENT_SESSION_LOG = 7;
  private static final int SUMMARY_VALUE = 1;
  private static final int VALUE_TAG = 1;
  private static final int VALUE_SIMPLE_VALUE = 2;
  private static final int SESSION_LOG_STATUS = 1;
  private static final int SESSION_LOG_START = 1;

  // TFRecord's CRC mask (tensorflow/core/lib/hash/crc32c.h): rotate right by 15, add a constant.
  private static final int CRC_MASK_DELTA = 0xa282ead8;

  private final Path path;
  private final FSDataOutputStream out;
  private final Mfu mfu;
  private final boolean hflush;

  /**
   * Model FLOPs utilisation: achieved model FLOP/s over the hardware's peak.
   *
   * @param flopsPerToken      training FLOPs per token (forward and backward), see {@link #forGpt}
   * @param peakFlopsPerSecond the peak FLOP/s of all ranks together, for the precision trained in;
   *                           take it from the hardware's data sheet, it is never guessed here
   */
  public record Mfu(double flopsPerToken, double peakFlopsPerSecond) {
    /** Validates both numbers. */
    public Mfu {
      if (!(flopsPerToken > 0) || !(peakFlopsPerSecond > 0)) {
        throw new IllegalArgumentException("MFU needs positive FLOPs per token and peak FLOP/s, but found "
            + flopsPerToken + " and " + peakFlopsPerSecond);
      }
    }

    /**
     * The estimate for a GPT: {@code 6·N + 12·L·C·T} FLOPs per token (N parameters; the second term is
     * attention's QK^T and AV matmuls), as in PaLM (Chowdhery et al. 2022, appendix B) and nanoGPT's
     * estimate_mfu. Passing the total parameter count includes the position embedding, which does
     * no matmul; that overstates FLOPs by 6·T·C per token, about 1% for conf/tiny.yaml.
     *
     * @param peakFlopsPerSecond peak FLOP/s of all ranks together (per-device peak times worldSize)
     */
    public static Mfu forGpt(long parameters, int layers, int dModel, int contextLength,
        double peakFlopsPerSecond) {
      double flopsPerToken = 6.0 * parameters + 12.0 * layers * dModel * contextLength;
      return new Mfu(flopsPerToken, peakFlopsPerSecond);
    }

    /** The utilisation at a global throughput of {@code tokensPerSecond} (all ranks together). */
    public double of(double tokensPerSecond) {
      return tokensPerSecond * flopsPerToken / peakFlopsPerSecond;
    }
  }

  /** A writer without MFU; see {@link #TensorBoardWriter(String, HadoopSettings, Mfu)}. */
  public TensorBoardWriter(String logDir, HadoopSettings hadoop) throws IOException {
    this(logDir, hadoop, null);
  }

  /**
   * Creates a new event file under {@code logDir} (created if missing) and writes its version record.
   *
   * @param logDir     any Hadoop FileSystem directory (file:, hdfs:, s3a:, a bare local path ...)
   * @param hadoop     Hadoop settings for that filesystem (credentials, endpoints)
   * @param mfu        the MFU estimate to write as {@code mfu}, or null (the default) to write none
   * @throws IOException when the directory or file cannot be created
   */
  public TensorBoardWriter(String logDir, HadoopSettings hadoop, Mfu mfu) throws IOException {
    if (logDir == null || logDir.isBlank()) {
      throw new IllegalArgumentException("TensorBoard log directory is empty; give a directory such as "
          + "target/runs/moby/tensorboard or hdfs:///runs/moby/tensorboard");
    }
    Path dir = new Path(logDir);
    FileSystem fs = hadoop.fs(dir);
    // The checksummed local filesystem holds written bytes until close (its hflush does not reach
    // the file), so a live TensorBoard would see nothing; its raw filesystem writes them through.
    if (fs instanceof ChecksumFileSystem checksummed) {
      fs = checksummed.getRawFileSystem();
    }
    fs.mkdirs(dir);
    String base = "events.out.tfevents." + System.currentTimeMillis() / 1000 + "." + hostName();
    Path file = new Path(dir, base);
    // Two writers started in the same second on one host (a retry, a test) get distinct files.
    for (int n = 1; fs.exists(file); n++) {
      file = new Path(dir, base + "." + n);
    }
    this.path = file;
    this.out = fs.create(file, false);
    this.mfu = mfu;
    // Object stores (S3A) cannot publish part of an object; there the file appears on close.
    this.hflush = out.hasCapability(StreamCapabilities.HFLUSH);
    if (!hflush) {
      LOG.warn("{} cannot flush a partly written file (an object store?): TensorBoard sees these events only "
          + "once training ends; write to a local or HDFS directory for live curves", file);
    }
    writeRecord(event(System.currentTimeMillis() / 1000.0, 0, o -> o.writeString(EVENT_FILE_VERSION, FILE_VERSION)));
    LOG.info("writing TensorBoard events to {}", file);
  }

  @Override
  public synchronized void accept(MetricsEvent e) {
    double wallTime = wallTime(e);
    long step = (long) e.number("step");
    try {
      switch (e.event()) {
        case "step" -> {
          for (Map.Entry<String, String> s : STEP_SCALARS) {
            scalar(wallTime, step, s.getValue(), e.number(s.getKey()));
          }
          if (mfu != null) {
            scalar(wallTime, step, MFU_TAG, mfu.of(e.number("tokens_per_s")));
          } else if (!Double.isNaN(e.number("mfu"))) {
            scalar(wallTime, step, MFU_TAG, e.number("mfu")); // computed by rank 0 (the trainer's events)
          }
        }
        case "eval" -> {
          for (Map.Entry<String, String> s : EVAL_SCALARS) {
            scalar(wallTime, step, s.getValue(), e.number(s.getKey()));
          }
        }
        // A (re)start from checkpoint step s redoes steps s+1, s+2, ...; TensorBoard discards the
        // points at and after a START event's step that were written before it.
        case "resume" -> writeRecord(event(wallTime, step + 1, o -> o.writeByteArray(EVENT_SESSION_LOG,
            message(s -> s.writeEnum(SESSION_LOG_STATUS, SESSION_LOG_START)))));
        default -> { } // checkpoint, failure, done: nothing to plot
      }
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write the TensorBoard event file " + path, ex);
    }
  }

  /** The event file being written. */
  public Path path() {
    return path;
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }

  @Override
  public String toString() {
    return "TensorBoardWriter[" + path + "]";
  }

  /** One Event{wall_time, step, summary{value{tag, simple_value}}}; absent (NaN) metrics are skipped. */
  private void scalar(double wallTime, long step, String tag, double value) throws IOException {
    if (Double.isNaN(value)) {
      return;
    }
    byte[] v = message(o -> {
      o.writeString(VALUE_TAG, tag);
      o.writeFloat(VALUE_SIMPLE_VALUE, (float) value);
    });
    byte[] summary = message(o -> o.writeByteArray(SUMMARY_VALUE, v));
    writeRecord(event(wallTime, step, o -> o.writeByteArray(EVENT_SUMMARY, summary)));
  }

  private static byte[] event(double wallTime, long step, Fields what) throws IOException {
    return message(o -> {
      o.writeDouble(EVENT_WALL_TIME, wallTime);
      o.writeInt64(EVENT_STEP, step);
      what.write(o);
    });
  }

  /** Writes one TFRecord and flushes it to the filesystem. */
  private void writeRecord(byte[] data) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong(data.length);
    header.putInt(maskedCrc32c(header.array(), 0, 8));
    ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    footer.putInt(maskedCrc32c(data, 0, data.length));
    out.write(header.array());
    out.write(data);
    out.write(footer.array());
    if (hflush) {
      out.hflush();
    } else {
      out.flush();
    }
  }

  /** CRC32C of {@code len} bytes, masked as TFRecord requires: ((crc >>> 15) | (crc << 17)) + 0xa282ead8. */
  static int maskedCrc32c(byte[] bytes, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, off, len);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + CRC_MASK_DELTA;
  }

  @FunctionalInterface
  private interface Fields {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] message(Fields fields) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream o = CodedOutputStream.newInstance(bytes);
    fields.write(o);
    o.flush();
    return bytes.toByteArray();
  }

  private static double wallTime(MetricsEvent e) {
    double ms = e.number("time");
    return (Double.isNaN(ms) ? System.currentTimeMillis() : ms) / 1000.0;
  }

  private static String hostName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "localhost";
    }
    return host.replaceAll("[^A-Za-z0-9._-]", "_");
  }
}
