/*
 * CheckpointLease: the one-owner lock of a checkpoint directory, a LEASE.json file holding the run
 * id of the fit that writes there and a heartbeat the driver refreshes. A second run finds it and
 * fails before any Spark work; a lease whose heartbeat stopped (a crashed driver) is taken over
 * after a timeout. It does not write checkpoints and cannot stop a writer that ignores it.
 */
package org.ringtrain.driver.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.fs.HadoopSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease of one run on a checkpoint directory: {@code <dir>/}{@value CheckpointFormat#LEASE_FILE},
 * JSON {@code {"runId","heartbeatMillis","host"}}.
 *
 * <p>{@link #acquire} creates the file with {@code overwrite=false}, which HDFS and local file
 * systems make atomic, so of two runs starting together exactly one gets it. The holder's driver
 * rewrites the heartbeat every quarter of the timeout from a daemon thread; {@link #close()} stops
 * that and deletes the file. A lease whose heartbeat is older than the timeout belongs to a driver
 * that died without closing it and is taken over with a WARN. Staleness compares the holder's wall
 * clock with the reader's, so the machines' clocks must agree to well within the timeout (NTP).
 *
 * <p>The lease belongs to a running fit, not to a directory's history: {@code --resume} in a
 * directory whose lease was released (or went stale) takes a new one under the new run's id. On
 * object stores without an atomic create-if-absent (s3a before conditional writes) two runs
 * starting in the same second may both believe they hold it; the heartbeat check then notices the
 * loser within one interval and logs an ERROR.
 */
public final class CheckpointLease implements AutoCloseable {

  /** How long a lease lives without a heartbeat before another run may take it over: 2 minutes. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointLease.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FileSystem fs;
  private final Path file;
  private final String runId;
  private final ScheduledExecutorService heartbeat;
  private volatile boolean lost;

  private CheckpointLease(FileSystem fs, Path file, String runId, Duration timeout) {
    this.fs = fs;
    this.file = file;
    this.runId = runId;
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ringtrain-checkpoint-lease");
      t.setDaemon(true);
      return t;
    });
    long every = Math.max(250, timeout.toMillis() / 4);
    heartbeat.scheduleAtFixedRate(this::refresh, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * The holder of a lease as its file says.
   *
   * @param runId           the run that holds it
   * @param heartbeatMillis wall-clock time of its last heartbeat, ms since the epoch
   * @param host            the driver host that wrote it, for messages
   */
  record Holder(String runId, long heartbeatMillis, String host) {
  }

  /**
   * Takes the lease of {@code directoryUri} for {@code runId}, creating the directory if needed,
   * and starts the heartbeat. A lease of the same run id is taken back (a retried fit); a stale one
   * is taken over with a WARN.
   *
   * @param hadoop       Hadoop settings of the checkpoint file system
   * @param directoryUri the checkpoint directory
   * @param runId        the fit's run id, recorded in every manifest it writes
   * @param timeout      heartbeat age after which a lease counts as abandoned (default {@link #DEFAULT_TIMEOUT})
   * @return the lease; close it when the fit ends
   * @throws IllegalArgumentException if another run holds a live lease, naming it (a directory in use
   *                                  is a bad --checkpoint-dir, reported like one)
   * @throws IOException           from the file system
   */
  public static CheckpointLease acquire(HadoopSettings hadoop, String directoryUri, String runId, Duration timeout)
      throws IOException {
    if (runId == null || runId.isBlank() || timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("runId must not be blank and timeout must be positive, but found runId="
          + runId + ", timeout=" + timeout + "; pass the fit's run id and e.g. CheckpointLease.DEFAULT_TIMEOUT");
    }
    Path dir = new Path(directoryUri);
    FileSystem fs = hadoop.fs(dir);
    Path file = new Path(fs.makeQualified(dir), CheckpointFormat.LEASE_FILE);
    fs.mkdirs(file.getParent());
    for (int attempt = 0; attempt < 2; attempt++) {
      if (tryCreate(fs, file, runId)) {
        LOG.info("took the lease of checkpoint directory {} for run {}", file.getParent(), runId);
        return new CheckpointLease(fs, file, runId, timeout);
      }
      Optional<Holder> holder = read(fs, file);
      if (holder.isEmpty()) {
        continue; // released between our create and our read: try again
      }
      Holder h = holder.get();
      long age = System.currentTimeMillis() - h.heartbeatMillis();
      if (h.runId().equals(runId)) {
        write(fs, file, runId, true);
        LOG.info("run {} takes back its own lease of {}", runId, file.getParent());
        return new CheckpointLease(fs, file, runId, timeout);
      }
      if (age <= timeout.toMillis()) {
        throw heldBy(file, h, age, timeout);
      }
      LOG.warn("taking over the stale lease of checkpoint directory {}: run {} on {} last renewed it {} s ago, "
          + "more than the timeout of {} s; its driver is presumed dead", file.getParent(), h.runId(), h.host(),
          age / 1000, timeout.toSeconds());
      fs.delete(file, false);
    }
    Holder h = read(fs, file).orElse(new Holder("<unknown>", 0, "<unknown>"));
    throw heldBy(file, h, System.currentTimeMillis() - h.heartbeatMillis(), timeout);
  }

  /**
   * Fails if another run holds a live lease on {@code directoryUri}: the pre-flight form of
   * {@link #acquire}, for checks before Spark starts. Takes nothing.
   *
   * @throws IllegalArgumentException naming the run that holds the directory
   * @throws IOException           from the file system
   */
  public static void checkFree(HadoopSettings hadoop, String directoryUri, Duration timeout) throws IOException {
    Path dir = new Path(directoryUri);
    FileSystem fs = hadoop.fs(dir);
    Path file = new Path(fs.makeQualified(dir), CheckpointFormat.LEASE_FILE);
    Optional<Holder> holder = read(fs, file);
    if (holder.isPresent()) {
      long age = System.currentTimeMillis() - holder.get().heartbeatMillis();
      if (age <= timeout.toMillis()) {
        throw heldBy(file, holder.get(), age, timeout);
      }
    }
  }

  /** The run id this lease was taken for. */
  public String runId() {
    return runId;
  }

  /** Stops the heartbeat and deletes the lease file if it is still this run's. Never throws. */
  @Override
  public void close() {
    heartbeat.shutdownNow();
    try {
      heartbeat.awaitTermination(10, TimeUnit.SECONDS);
      Optional<Holder> holder = read(fs, file);
      if (holder.isPresent() && holder.get().runId().equals(runId)) {
        fs.delete(file, false);
        LOG.info("released the lease of checkpoint directory {} (run {})", file.getParent(), runId);
      } else {
        LOG.warn("not deleting {}: it no longer names run {} but {}", file, runId,
            holder.map(Holder::runId).orElse("nobody"));
      }
    } catch (IOException e) {
      LOG.warn("could not release the lease {} of run {}: {}; the next run takes it over once it is stale", file,
          runId, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The holder recorded in a lease file, or empty if there is none. */
  static Optional<Holder> read(FileSystem fs, Path file) throws IOException {
    byte[] bytes;
    long modified;
    try (FSDataInputStream in = fs.open(file)) {
      bytes = in.readAllBytes();
      modified = fs.getFileStatus(file).getModificationTime();
    } catch (FileNotFoundException e) {
      return Optional.empty();
    }
    try {
      JsonNode root = JSON.readTree(bytes);
      if (root != null && root.path("runId").isTextual() && root.path("heartbeatMillis").canConvertToLong()) {
        return Optional.of(new Holder(root.path("runId").asText(), root.path("heartbeatMillis").asLong(),
            root.path("host").asText("<unknown>")));
      }
    } catch (IOException e) {
      LOG.debug("unreadable lease file {}: {}", file, e.toString());
    }
    // Empty or garbled (a writer died mid-write): its age is the file's, its owner unknown.
    return Optional.of(new Holder("<unreadable lease file>", modified, "<unknown>"));
  }

  /** Writes {@code runId} and the current time into the lease file. */
  static void write(FileSystem fs, Path file, String runId, boolean overwrite) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("runId", runId);
    root.put("heartbeatMillis", System.currentTimeMillis());
    root.put("host", hostName());
    byte[] bytes = JSON.writeValueAsBytes(root);
    try (FSDataOutputStream out = fs.create(file, overwrite)) {
      out.write(bytes);
    }
  }

  private static boolean tryCreate(FileSystem fs, Path file, String runId) throws IOException {
    if (fs.exists(file)) {
      return false;
    }
    try {
      write(fs, file, runId, false);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    }
  }

  /** One heartbeat: rewrites the file unless another run has taken the lease over. */
  private void refresh() {
    if (lost) {
      return;
    }
    try {
      Optional<Holder> holder = read(fs, file);
      if (holder.isPresent() && !holder.get().runId().equals(runId)) {
        lost = true;
        LOG.error("run {} lost the lease of checkpoint directory {} to run {}: its heartbeats came too late "
            + "(a long pause?); both runs may now write there. Stop one of them", runId, file.getParent(),
            holder.get().runId());
        return;
      }
      write(fs, file, runId, true);
    } catch (IOException e) {
      LOG.warn("could not renew the lease {} of run {}: {}; retrying at the next heartbeat", file, runId,
          e.toString());
    }
  }

  private static IllegalArgumentException heldBy(Path file, Holder h, long ageMillis, Duration timeout) {
    return new IllegalArgumentException("checkpoint directory " + file.getParent() + " is in use by run " + h.runId()
        + " (driver " + h.host() + ", last heartbeat " + Math.max(0, ageMillis / 1000) + " s ago): expected no "
        + "live lease in " + file + ". Wait for that run to end, stop it, or give this run another "
        + "--checkpoint-dir; a lease without a heartbeat for " + timeout.toSeconds() + " s is taken over");
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "<unknown host>";
    }
  }
}
