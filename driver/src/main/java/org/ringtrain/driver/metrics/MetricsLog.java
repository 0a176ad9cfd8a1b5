// The JSON-lines metrics log, written by the driver as events arrive, on any
// Hadoop FileSystem. Each line is flushed (hflush) so that a reader, or a
// crashed run, sees every event up to the last one. A second run of the same
// job appends when the filesystem supports it.
package org.ringtrain.driver.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.fs.HadoopSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Appends one JSON object per line to a file; close it at the end of training. */
public final class MetricsLog implements MetricsSink, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsLog.class);

  private final Path path;
  private final FSDataOutputStream out;

  /** Opens (creating or appending to) {@code uri} with the given Hadoop settings. */
  public MetricsLog(String uri, HadoopSettings hadoop) throws IOException {
    this.path = new Path(uri);
    FileSystem fs = hadoop.fs(path);
    // The checksummed local filesystem keeps written bytes until close (its hflush does not reach
    // the file); its raw filesystem writes each line through, so a reader sees the run live.
    if (fs instanceof ChecksumFileSystem checksummed) {
      fs = checksummed.getRawFileSystem();
    }
    FSDataOutputStream stream;
    if (fs.exists(path)) {
      try {
        stream = fs.append(path);
      } catch (UnsupportedOperationException | IOException e) {
        // Not every file system appends: object stores such as s3a throw
        // UnsupportedOperationException, others refuse with an IOException. Losing the earlier
        // lines is not an option, so this run's log goes beside the old one.
        Path next = new Path(path.getParent(), path.getName() + "." + System.currentTimeMillis());
        LOG.warn("cannot append to {} ({}); writing {} instead", path, e.getMessage(), next);
        stream = fs.create(next, false);
      }
    } else {
      fs.mkdirs(path.getParent());
      stream = fs.create(path, false);
    }
    this.out = stream;
  }

  @Override
  public synchronized void accept(MetricsEvent event) {
    try {
      out.write((event.toJson() + "\n").getBytes(StandardCharsets.UTF_8));
      out.hflush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the metrics log " + path, e);
    }
  }

  /** Where the log is. */
  public Path path() {
    return path;
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
