/*
 * CheckpointStore: a directory of training checkpoints on any Hadoop FileSystem. It writes a
 * checkpoint atomically (temporary directory, then one rename), keeps the newest few, lists them,
 * and loads the newest one that verifies, skipping corrupt or partial ones with a warning
 * (ShardedCheckpointWriter writes the sharded kind through it). It is not the file format (CheckpointWriter, CheckpointReader) and does not decide when to checkpoint.
 *
 * Why over 300 lines: writing, listing, verified retention and loading share one directory's
 * rules (names, temporary directories, run ids); the lease is already its own class.
 */
package org.ringtrain.driver.checkpoint;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.optim.Optimizer;
import org.ringtrain.ops.param.ParameterLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory of checkpoints (format in {@link CheckpointFormat}) on any Hadoop FileSystem:
 * {@code file:}, {@code hdfs:}, {@code s3a:} and so on. A path without a scheme resolves against
 * {@code fs.defaultFS} (the local file system unless the configuration says otherwise).
 *
 * <p>The store is {@link Serializable}: it holds its {@link HadoopSettings} and opens the file
 * system lazily, so it can be shipped to the executor of rank 0. The settings travel with it,
 * credentials included, as Spark ships its own Hadoop configuration. The file system instance
 * comes from Hadoop's cache and is never closed here; set {@code fs.<scheme>.impl.disable.cache}
 * to {@code true} in the settings for a private one.
 *
 * <p>Atomicity: {@link #write} fills {@code step-N.tmp-<uuid>/}, writes MANIFEST.json last and then
 * renames the directory to {@code step-N/}. On HDFS and local file systems that rename is atomic,
 * so a reader sees a complete checkpoint or none. <b>On object stores such as s3a, renaming a
 * directory is a copy of every file followed by a delete, not atomic</b>: a crash during it can
 * leave a {@code step-N/} that lacks files. Such a checkpoint fails its manifest check on load and
 * is skipped, so the fallback still holds, but the write itself costs a full copy.
 *
 * <p>One writer per directory: a second run writing into the same directory at the same time
 * would have its temporary directories deleted by the other's clean-up. The store does not
 * enforce that; the driver takes the directory's {@link CheckpointLease} for the whole fit. Every
 * manifest records the {@link #runId()} of the store that wrote it.
 */
public final class CheckpointStore implements Serializable {

  /** How many complete checkpoints {@link #CheckpointStore(HadoopSettings, String)} keeps: 3. */
  public static final int DEFAULT_KEEP_LAST = 3;

  private static final long serialVersionUID = 3L;
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

  private final HadoopSettings hadoop;
  private final String directoryUri;
  private final int keepLast;
  private final String runId;

  private transient FileSystem fs;
  private transient Path dir;
  private transient CheckpointDirectory directory;

  /**
   * A store keeping the newest {@value #DEFAULT_KEEP_LAST} checkpoints.
   *
   * @see #CheckpointStore(HadoopSettings, String, int)
   */
  public CheckpointStore(HadoopSettings hadoop, String directoryUri) {
    this(hadoop, directoryUri, DEFAULT_KEEP_LAST);
  }

  /**
   * A store over {@code directoryUri} whose checkpoints record a run id made up for this store (a
   * random UUID); touches no file system until first used.
   *
   * @see #CheckpointStore(HadoopSettings, String, int, String)
   */
  public CheckpointStore(HadoopSettings hadoop, String directoryUri, int keepLast) {
    this(hadoop, directoryUri, keepLast, UUID.randomUUID().toString());
  }

  /**
   * A store over {@code directoryUri}; touches no file system until first used.
   *
   * @param hadoop       Hadoop settings, e.g. {@code fs.s3a.endpoint}; {@link HadoopSettings#defaults()} for none
   * @param directoryUri the checkpoint directory, e.g. {@code file:/tmp/ckpt}, {@code hdfs://nn/ckpt},
   *                     {@code s3a://bucket/ckpt} or a plain path; created on first write
   * @param keepLast     how many verified checkpoints to keep, &gt;= 1 (default {@value #DEFAULT_KEEP_LAST})
   * @param runId        the run writing through this store, recorded in every manifest it writes
   * @throws IllegalArgumentException for null settings, a blank or malformed URI, keepLast &lt; 1 or a blank runId
   */
  public CheckpointStore(HadoopSettings hadoop, String directoryUri, int keepLast, String runId) {
    if (hadoop == null) {
      throw new IllegalArgumentException("the Hadoop settings must not be null; pass HadoopSettings.defaults() for "
          + "Hadoop's defaults");
    }
    this.hadoop = hadoop;
    if (directoryUri == null || directoryUri.isBlank()) {
      throw new IllegalArgumentException("the checkpoint directory must not be blank, but found "
          + (directoryUri == null ? "null" : "'" + directoryUri + "'")
          + "; pass a path or URI such as file:/tmp/ringtrain-ckpt or hdfs://namenode/ckpt");
    }
    try {
      new Path(directoryUri);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the checkpoint directory '" + directoryUri + "' is not a valid path or URI ("
          + e.getMessage() + "); pass e.g. file:/tmp/ringtrain-ckpt or hdfs://namenode/ckpt", e);
    }
    if (keepLast < 1) {
      throw new IllegalArgumentException("keepLast must be >= 1, but found keepLast=" + keepLast
          + "; keep at least the newest checkpoint (default " + DEFAULT_KEEP_LAST + ")");
    }
    if (runId == null || runId.isBlank()) {
      throw new IllegalArgumentException("runId must not be blank, but found " + (runId == null ? "null" : "'"
          + runId + "'") + "; pass the id of the fit writing the checkpoints");
    }
    this.directoryUri = directoryUri;
    this.keepLast = keepLast;
    this.runId = runId;
  }

  /** The checkpoint directory as given to the constructor. */
  public String directoryUri() {
    return directoryUri;
  }

  /** How many verified checkpoints {@link #write} keeps. */
  public int keepLast() {
    return keepLast;
  }

  /** The run id {@link #write} records in every manifest. */
  public String runId() {
    return runId;
  }

  /**
   * Fails early if checkpoints cannot be written: creates the directory if needed, then writes and
   * deletes a small probe file in it. Call it before training starts.
   *
   * @throws IllegalArgumentException if the path names an existing file rather than a directory
   * @throws IOException              if the directory cannot be created or written, with the reason
   */
  public void checkWritable() throws IOException {
    Path d;
    try {
      d = dir();
    } catch (IOException e) {
      throw notWritable(directoryUri, e);
    }
    FileStatus status = statusOrNull(d);
    if (status != null && !status.isDirectory()) {
      throw new IllegalArgumentException("checkpoint directory " + d + " is not writable: it is an existing file, "
          + "not a directory; choose a directory you can write");
    }
    Path probe = new Path(d, ".write-probe-" + UUID.randomUUID());
    try {
      if (!fs.mkdirs(d)) {
        throw new IOException("creating it failed (mkdirs returned false)");
      }
      try (FSDataOutputStream out = fs.create(probe, false)) {
        out.write("ringtrain write probe\n".getBytes(StandardCharsets.US_ASCII));
      }
      if (!fs.delete(probe, false)) {
        throw new IOException("the probe file " + probe + " was written but could not be deleted");
      }
    } catch (IOException e) {
      throw notWritable(d.toString(), e);
    }
  }

  /**
   * Writes a checkpoint atomically: all files into {@code step-N.tmp-<uuid>/}, MANIFEST.json last,
   * then one rename to {@code step-N/} (see the class comment for s3a). An existing {@code step-N/}
   * is replaced. Afterwards, leftover temporary directories are deleted, and of the checkpoints up
   * to step N that verify (manifest, sizes, SHA-256; each read back once per store) only the newest
   * {@link #keepLast()} are kept, so the newest verified one is never deleted; corrupt or partial
   * ones older than step N are deleted, since they can never be loaded. Checkpoints newer than
   * step N (from an abandoned run) are left alone with a warning. Clean-up failures are logged, not
   * thrown: the new checkpoint is already in place.
   *
   * @param state     the training position; {@code state.step()} names the checkpoint
   * @param layout    the layout of {@code params} and of the optimizer
   * @param params    flat float32 parameters of {@code layout.totalElements()} elements
   * @param optimizer the optimizer whose state to save; read, not changed
   * @return the fully qualified path of the new checkpoint directory
   * @throws IllegalArgumentException for null arguments or an optimizer of another layout
   * @throws IOException              from the file system; the temporary directory is then deleted
   */
  public String write(TrainingState state, ParameterLayout layout, INDArray params, Optimizer optimizer)
      throws IOException {
    if (state == null || layout == null || params == null || optimizer == null) {
      throw new IllegalArgumentException("state, layout, params and optimizer must not be null, but found state="
          + state + ", layout=" + layout + ", params=" + (params == null ? "null" : "[" + params.length() + "]")
          + ", optimizer=" + optimizer);
    }
    if (optimizer.layout().totalElements() != layout.totalElements()) {
      throw new IllegalArgumentException("the optimizer steps " + optimizer.layout().totalElements()
          + " parameters but the layout has " + layout.totalElements() + "; pass the optimizer of this model");
    }
    long start = System.nanoTime();
    Path d = dir();
    String name = CheckpointFormat.directoryName(state.step());
    Path tmp = new Path(d, name + CheckpointFormat.TMP_INFIX + UUID.randomUUID());
    Path target = new Path(d, name);
    Manifest manifest;
    try {
      if (!fs.mkdirs(tmp)) {
        throw new IOException("could not create the temporary checkpoint directory " + tmp
            + " (mkdirs returned false); run checkWritable() on the store before training");
      }
      manifest = new CheckpointWriter(fs).write(tmp, runId, state, layout, params, optimizer);
      directory.publish(tmp, target);
    } catch (IOException | RuntimeException e) {
      directory.deleteQuietly(tmp);
      throw e;
    }
    long bytes = manifest.files().stream().mapToLong(Manifest.Entry::size).sum();
    LOG.info("wrote checkpoint {} (step={}, runId={}, {} bytes in {} ms)", target, state.step(), runId, bytes,
        (System.nanoTime() - start) / 1_000_000);
    directory.cleanUp(state.step(), keepLast);
    return target.toString();
  }

  /**
   * Loads the newest checkpoint that verifies: manifest present, every file of the right size and
   * SHA-256, weights and optimizer state parse and fit {@code layout}. Each corrupt or partial
   * checkpoint on the way is logged at WARN with its path and the reason, and the previous one is
   * tried. Temporary directories of unfinished writes are ignored.
   *
   * @param layout the layout of the model that will resume
   * @return the checkpoint, or empty if the directory holds none that verifies (or does not exist)
   * @throws IncompatibleCheckpointException if the newest intact checkpoint has an unknown format
   *                                         version or another model config; not skipped, since an
   *                                         older one would silently lose progress
   * @throws IOException                     from the file system
   */
  public Optional<Checkpoint> loadLatestValid(ParameterLayout layout) throws IOException {
    if (layout == null) {
      throw new IllegalArgumentException("layout must not be null; pass GptModel.layout(modelConfig)");
    }
    Optional<Checkpoint> loaded = newestValid((reader, path) -> reader.read(path, layout));
    loaded.ifPresent(c -> LOG.info("loaded checkpoint {} (step={}, epoch={}, cursor={})", c.path(), c.state().step(),
        c.state().epoch(), c.state().cursor()));
    return loaded;
  }

  /**
   * The training state of the newest checkpoint whose files all verify (manifest, sizes, SHA-256),
   * without loading weights: for callers that need the saved config to build the layout they then
   * pass to {@link #loadLatestValid}, which picks the same checkpoint unless the directory changes
   * in between. Corrupt or partial checkpoints are logged and skipped as there.
   *
   * @return the state, or empty if no checkpoint verifies (or the directory does not exist)
   * @throws IncompatibleCheckpointException if the newest intact checkpoint has an unknown format version
   * @throws IOException                     from the file system
   */
  public Optional<TrainingState> latestState() throws IOException {
    return newestValid(CheckpointReader::readState);
  }

  /**
   * Reads and verifies one checkpoint of this directory, as {@link #list()} names it: the manifest,
   * every file's size and SHA-256, and that the weights and optimizer state parse and fit
   * {@code layout}. For checks of every checkpoint, not only the newest ({@link #loadLatestValid}).
   *
   * @param checkpointPath a {@code step-N} directory directly under this store's directory
   * @param layout         the layout of the model the checkpoint belongs to
   * @return the checkpoint; the caller owns (closes) it
   * @throws IllegalArgumentException        if the path is not directly under this store's directory
   * @throws CorruptCheckpointException      if the checkpoint is partial or corrupt
   * @throws IncompatibleCheckpointException for an unknown format version or another model config
   * @throws IOException                     from the file system
   */
  public Checkpoint load(String checkpointPath, ParameterLayout layout) throws IOException {
    if (checkpointPath == null || layout == null) {
      throw new IllegalArgumentException("checkpointPath and layout must not be null, but found checkpointPath="
          + checkpointPath + ", layout=" + layout + "; pass a path from list() and GptModel.layout(modelConfig)");
    }
    Path d = dir();
    Path path = fs.makeQualified(new Path(checkpointPath));
    if (!d.equals(path.getParent())) {
      throw new IllegalArgumentException("checkpoint " + path + " is not in this store's directory " + d
          + "; pass a path from list()");
    }
    return new CheckpointReader(fs).read(path, layout);
  }

  /**
   * The complete checkpoints (those with a MANIFEST.json; not verified further), oldest first.
   *
   * @return fully qualified paths of the checkpoint directories; empty if the directory does not exist
   * @throws IOException from the file system
   */
  public List<String> list() throws IOException {
    List<String> complete = new ArrayList<>();
    dir();
    for (CheckpointDirectory.StepDir s : directory.stepDirs()) {
      if (directory.isComplete(s.path())) {
        complete.add(s.path().toString());
      }
    }
    return complete;
  }

  @Override
  public String toString() {
    // The Hadoop settings may hold credentials: never print them.
    return "CheckpointStore[" + directoryUri + ", keepLast=" + keepLast + ", runId=" + runId + "]";
  }

  /** Tries the {@code step-N} directories newest first; logs and skips corrupt ones. */
  private <T> Optional<T> newestValid(Load<T> load) throws IOException {
    Path d = dir();
    List<CheckpointDirectory.StepDir> candidates = directory.stepDirs();
    CheckpointReader reader = new CheckpointReader(fs);
    for (int i = candidates.size() - 1; i >= 0; i--) {
      Path path = candidates.get(i).path();
      try {
        return Optional.of(load.from(reader, path));
      } catch (CorruptCheckpointException e) {
        LOG.warn("skipping corrupt or partial checkpoint {}: {}; falling back to the previous checkpoint", path,
            e.getMessage());
      }
    }
    if (candidates.isEmpty()) {
      LOG.info("no checkpoint in {}", d);
    } else {
      LOG.warn("none of the {} checkpoints in {} verifies (reasons above); continuing without a checkpoint",
          candidates.size(), d);
    }
    return Optional.empty();
  }

  private FileStatus statusOrNull(Path p) throws IOException {
    try {
      return fs.getFileStatus(p);
    } catch (FileNotFoundException e) {
      return null;
    } catch (IOException e) {
      throw notWritable(p.toString(), e);
    }
  }

  /** The file system, opened by {@link #dir()}. */
  FileSystem fs() throws IOException {
    dir();
    return fs;
  }

  /** The directory's rules (publish, clean up), opened by {@link #dir()}. */
  CheckpointDirectory directory() throws IOException {
    dir();
    return directory;
  }

  /** The qualified directory, opening the file system on first use (also after deserialisation). */
  synchronized Path dir() throws IOException {
    if (dir == null) {
      Path p = new Path(directoryUri);
      FileSystem opened = hadoop.fs(p);
      dir = opened.makeQualified(p);
      fs = opened;
      directory = new CheckpointDirectory(opened, dir);
    }
    return dir;
  }

  private static IOException notWritable(String where, IOException cause) {
    return new IOException("checkpoint directory " + where + " is not writable: " + cause.getClass().getSimpleName()
        + ": " + cause.getMessage() + "; choose a directory you can write", cause);
  }

  /** Reads one checkpoint directory. */
  @FunctionalInterface
  private interface Load<T> {
    T from(CheckpointReader reader, Path checkpointDir) throws IOException;
  }
}
