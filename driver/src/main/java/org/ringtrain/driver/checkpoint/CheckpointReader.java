/*
 * CheckpointReader: reads one checkpoint directory back and verifies it: the manifest, every file's
 * size and SHA-256, and that the weights, optimizer state and training state parse and fit the
 * model's parameter layout; a sharded checkpoint's optimizer slices are verified and handed out as
 * OptimizerSlices, which each resuming rank reads only its part of.
 * It refuses format versions it does not know. It does not choose which
 * checkpoint to read or fall back to another: CheckpointStore does.
 */
package org.ringtrain.driver.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.io.SafetensorsReader;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.optim.Optimizer;
import org.ringtrain.ops.optim.OptimizerStateReader;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * Reads checkpoints written by {@link CheckpointWriter}, in format version 1 and (with per-rank
 * optimizer slices) {@value CheckpointFormat#SHARDED_FORMAT_VERSION}.
 *
 * <p>Every file is hashed while it is parsed, so each is read once. A failure is classified:
 * bytes that differ from what the manifest vouches for (missing, truncated, failing SHA-256 or the
 * file system's own checksum) are a {@link CorruptCheckpointException}; intact bytes this build or
 * this layout cannot use (an unknown format version, another model config) are an
 * {@link IncompatibleCheckpointException}; any other I/O error propagates unchanged.
 */
final class CheckpointReader {

  /** Largest manifest accepted; a real one is a few hundred bytes. */
  static final long MAX_MANIFEST_BYTES = 1 << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final FileSystem fs;

  CheckpointReader(FileSystem fs) {
    this.fs = fs;
  }

  /**
   * Reads and verifies the checkpoint in {@code dir}.
   *
   * @param dir    a {@code step-N} checkpoint directory
   * @param layout the layout of the model that will use the weights and optimizer state
   * @return the checkpoint; the caller owns its buffers
   * @throws CorruptCheckpointException      if the checkpoint is partial or corrupt
   * @throws IncompatibleCheckpointException for an unknown format version or another model config
   * @throws IOException                     from the file system
   */
  Checkpoint read(Path dir, ParameterLayout layout) throws IOException {
    Manifest manifest = readManifest(dir);
    TrainingState state = verifyStateV1(dir, manifest);
    INDArray params = Nd4j.createUninitialized(DataType.FLOAT, layout.totalElements());
    try {
      SafetensorsReader weights = new SafetensorsReader(layout);
      Map<String, String> metadata = readVerified(dir, manifest, CheckpointFormat.MODEL_FILE,
          in -> weights.read(in, params), null);
      String savedStep = metadata.get(CheckpointFormat.STEP_METADATA_KEY);
      if (!Long.toString(state.step()).equals(savedStep)) {
        throw new CorruptCheckpointException(dir + ": " + CheckpointFormat.MODEL_FILE + " has metadata "
            + CheckpointFormat.STEP_METADATA_KEY + "=" + savedStep + " but the checkpoint is of step " + state.step()
            + "; the weights belong to another checkpoint");
      }
      Optimizer optimizer = readVerified(dir, manifest, CheckpointFormat.OPTIMIZER_FILE,
          in -> OptimizerStateReader.read(in, layout), Optimizer::close);
      List<Manifest.Entry> entries = OptimizerSlice.entries(dir, manifest);
      if (entries.isEmpty()) {
        return new Checkpoint(dir.toString(), state, params, optimizer, null);
      }
      OptimizerSlices slices = verifySlices(dir, manifest, entries, layout, optimizer);
      return new Checkpoint(dir.toString(), state, params, null, slices);
    } catch (IOException | RuntimeException e) {
      if (params.closeable()) {
        params.close();
      }
      throw e;
    }
  }

  /**
   * A sharded checkpoint's optimizer, verified but not loaded: each slice file hashed in one
   * streaming pass (its header parsed and checked, its data only hashed), the slices' ranges
   * checked to partition the parameters; {@code header} gives AdamW's hyper-parameters. The rank
   * that resumes reads its part later ({@link OptimizerSlices#shard}), whatever world size wrote them.
   */
  private OptimizerSlices verifySlices(Path dir, Manifest manifest, List<Manifest.Entry> entries,
      ParameterLayout layout, Optimizer header) throws IOException {
    try (Optimizer closing = header) {
      if (!(header instanceof AdamW adamW) || header.stepCount() != 0) {
        throw new CorruptCheckpointException(dir + ": a sharded checkpoint's " + CheckpointFormat.OPTIMIZER_FILE
            + " must hold AdamW's hyper-parameters with 0 steps, found " + header);
      }
      List<String> names = new ArrayList<>();
      List<OptimizerSlice.Header> headers = new ArrayList<>();
      List<long[]> ranges = new ArrayList<>();
      long step = -1;
      for (int r = 0; r < entries.size(); r++) {
        int rank = r;
        long expected = step;
        String name = entries.get(r).name();
        OptimizerSlice.Header h = readVerified(dir, manifest, name, in -> OptimizerSlice.readHeader(in,
            new Path(dir, name).toString(), expected, rank, entries.size(), layout.totalElements()), null);
        step = h.step();
        names.add(name);
        headers.add(h);
        for (int i = 0; i < h.starts().length; i++) {
          ranges.add(new long[] {h.starts()[i], h.ends()[i]});
        }
      }
      checkPartition(dir, ranges, layout.totalElements(), step);
      return new OptimizerSlices(fs, dir, layout, adamW.config(), step, names, headers);
    }
  }

  /** The slices' ranges must partition [0, elements), unless no step has been taken (no ranges at all). */
  private static void checkPartition(Path dir, List<long[]> ranges, long elements, long step)
      throws CorruptCheckpointException {
    ranges.sort(Comparator.comparingLong(a -> a[0]));
    long next = 0;
    for (long[] range : ranges) {
      if (range[0] != next) {
        throw new CorruptCheckpointException(dir + ": the optimizer slices must partition the " + elements
            + " parameters, but " + (range[0] < next ? "element " + range[0] + " is in two slices"
            : "elements [" + next + ", " + range[0] + ") are in none"));
      }
      next = range[1];
    }
    if (next != elements && !(ranges.isEmpty() && step == 0)) {
      throw new CorruptCheckpointException(dir + ": the optimizer slices cover elements [0, " + next + ") of "
          + elements + " after " + step + " optimizer steps; a slice is missing its ranges");
    }
  }

  /**
   * Verifies every file of the checkpoint in {@code dir} against its manifest (size and SHA-256)
   * and returns its training state, without loading weights or optimizer state, for callers that
   * need the saved config before they know the layout.
   *
   * @throws CorruptCheckpointException      if the checkpoint is partial or corrupt
   * @throws IncompatibleCheckpointException for an unknown format version
   * @throws IOException                     from the file system
   */
  TrainingState readState(Path dir) throws IOException {
    Manifest manifest = readManifest(dir);
    TrainingState state = verifyStateV1(dir, manifest);
    for (String name : new String[] {CheckpointFormat.MODEL_FILE, CheckpointFormat.OPTIMIZER_FILE}) {
      readVerified(dir, manifest, name, in -> Boolean.TRUE, null);
    }
    for (Manifest.Entry slice : OptimizerSlice.entries(dir, manifest)) {
      readVerified(dir, manifest, slice.name(), in -> Boolean.TRUE, null);
    }
    return state;
  }

  /** The manifest of {@code dir}, in a format version this reader knows. */
  private Manifest readManifest(Path dir) throws IOException {
    Path manifestPath = new Path(dir, CheckpointFormat.MANIFEST_FILE);
    FileStatus status;
    try {
      status = fs.getFileStatus(manifestPath);
    } catch (FileNotFoundException e) {
      throw new CorruptCheckpointException(dir + " has no " + CheckpointFormat.MANIFEST_FILE + ": the checkpoint "
          + "is partial (its writer stopped before the manifest, which is written last)", e);
    }
    if (status.getLen() > MAX_MANIFEST_BYTES) {
      throw new CorruptCheckpointException(manifestPath + " has " + status.getLen() + " bytes, expected at most "
          + MAX_MANIFEST_BYTES + "; the manifest is corrupt");
    }
    byte[] manifestBytes;
    try (FSDataInputStream in = fs.open(manifestPath)) {
      manifestBytes = in.readAllBytes();
    } catch (ChecksumException e) {
      throw new CorruptCheckpointException(manifestPath + " fails the file system's checksum (" + e.getMessage()
          + "); the manifest is corrupt", e);
    }
    JsonNode header = Manifest.parseHeader(manifestBytes, manifestPath.toString());
    int version = header.path("formatVersion").asInt();
    switch (version) {
      case 1:
      case CheckpointFormat.SHARDED_FORMAT_VERSION:
        return Manifest.parseV1(header, manifestPath.toString()); // version 2 adds files, not fields
      default:
        throw unknownVersion(manifestPath, version);
    }
  }

  /** Checks a version-1 manifest against its directory and file sizes, then reads and verifies state.json. */
  private TrainingState verifyStateV1(Path dir, Manifest manifest) throws IOException {
    OptionalLong dirStep = CheckpointFormat.stepOf(dir.getName());
    if (dirStep.isPresent() && dirStep.getAsLong() != manifest.step()) {
      throw new CorruptCheckpointException(dir + ": the directory name says step " + dirStep.getAsLong()
          + " but its manifest says step " + manifest.step() + "; the checkpoint was renamed or is corrupt");
    }
    // Sizes first: a truncated file is found from metadata, before any data is read.
    for (String name : CheckpointFormat.DATA_FILES) {
      Manifest.Entry entry = manifest.entry(name).orElseThrow(() -> new CorruptCheckpointException(dir + ": "
          + CheckpointFormat.MANIFEST_FILE + " does not list " + name + ", expected entries for "
          + CheckpointFormat.DATA_FILES + "; the manifest is corrupt"));
      checkSize(new Path(dir, name), entry);
    }
    for (Manifest.Entry slice : OptimizerSlice.entries(dir, manifest)) {
      checkSize(new Path(dir, slice.name()), slice);
    }
    TrainingState state = readVerified(dir, manifest, CheckpointFormat.STATE_FILE,
        in -> parseState(in.readAllBytes(), new Path(dir, CheckpointFormat.STATE_FILE)), null);
    if (state.step() != manifest.step()) {
      throw new CorruptCheckpointException(dir + ": " + CheckpointFormat.STATE_FILE + " says step " + state.step()
          + " but the manifest says step " + manifest.step() + "; the checkpoint is corrupt");
    }
    return state;
  }

  private void checkSize(Path file, Manifest.Entry entry) throws IOException {
    long size;
    try {
      size = fs.getFileStatus(file).getLen();
    } catch (FileNotFoundException e) {
      throw new CorruptCheckpointException(file + " is missing, though the manifest lists it with " + entry.size()
          + " bytes; the checkpoint is corrupt", e);
    }
    if (size != entry.size()) {
      throw new CorruptCheckpointException(file + (size < entry.size() ? " is truncated" : " has extra bytes")
          + ": the manifest says " + entry.size() + " bytes, found " + size + "; the checkpoint is corrupt");
    }
  }

  /**
   * Parses one file while hashing it, then compares the hash with the manifest. A parse error on
   * bytes that hash wrong is corruption; on bytes that hash right, an incompatibility.
   */
  private <T> T readVerified(Path dir, Manifest manifest, String name, Parser<T> parser, Discard<T> discard)
      throws IOException {
    Path file = new Path(dir, name);
    Manifest.Entry entry = manifest.entry(name).orElseThrow();
    MessageDigest sha = CheckpointWriter.sha256();
    try (FSDataInputStream raw = fs.open(file)) {
      InputStream in = new BufferedInputStream(new DigestInputStream(raw, sha), CheckpointWriter.BUFFER_BYTES);
      T value;
      try {
        value = parser.parse(in);
      } catch (IOException | RuntimeException parseError) {
        drain(in, file, parseError);
        String actual = CheckpointWriter.hex(sha.digest());
        if (!actual.equals(entry.sha256())) {
          throw checksumMismatch(file, entry, actual, parseError);
        }
        if (parseError instanceof ChecksumException
            || parseError instanceof CorruptCheckpointException
            || parseError instanceof IncompatibleCheckpointException) {
          throw (IOException) parseError;
        }
        throw new IncompatibleCheckpointException(file + " matches its SHA-256 but cannot be loaded for this model: "
            + parseError.getMessage() + ". HINT: resume with the model config the checkpoint was written with (see "
            + "configJson in its " + CheckpointFormat.STATE_FILE + "), or give a new run its own checkpoint "
            + "directory", parseError);
      }
      try {
        drain(in, file, null);
      } catch (IOException e) {
        release(value, discard);
        throw e;
      }
      String actual = CheckpointWriter.hex(sha.digest());
      if (!actual.equals(entry.sha256())) {
        release(value, discard);
        throw checksumMismatch(file, entry, actual, null);
      }
      return value;
    } catch (ChecksumException e) {
      throw new CorruptCheckpointException(file + " fails the file system's own checksum (" + e.getMessage()
          + "); the checkpoint is corrupt", e);
    }
  }

  /** Reads {@code in} to its end so the digest covers the whole file. */
  private static void drain(InputStream in, Path file, Throwable parseError) throws IOException {
    byte[] chunk = new byte[64 * 1024];
    try {
      while (in.read(chunk) >= 0) {
        // Only the digest wants these bytes.
      }
    } catch (IOException e) {
      if (parseError != null) {
        e.addSuppressed(parseError);
      }
      throw e;
    }
  }

  private static <T> void release(T value, Discard<T> discard) {
    if (discard != null) {
      discard.release(value);
    }
  }

  private static CorruptCheckpointException checksumMismatch(Path file, Manifest.Entry entry, String actual,
      Throwable cause) {
    return new CorruptCheckpointException(file + " fails its SHA-256 check: the manifest says " + entry.sha256()
        + ", the file hashes to " + actual + " (" + entry.size() + " bytes); the file is corrupt", cause);
  }

  /** state.json, branching on its format version. */
  static TrainingState parseState(byte[] json, Path source) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new CorruptCheckpointException(source + " is not valid JSON (" + e.getMessage() + ")", e);
    }
    if (root == null || !root.isObject() || !CheckpointFormat.MAGIC.equals(root.path("magic").asText(null))) {
      throw new CorruptCheckpointException(source + " is not a ringtrain training state: expected a JSON object "
          + "with \"magic\":\"" + CheckpointFormat.MAGIC + "\"");
    }
    int version = root.path("formatVersion").asInt(-1);
    switch (version) {
      case 1:
        return parseStateV1(root, source);
      default:
        throw unknownVersion(source, version);
    }
  }

  private static TrainingState parseStateV1(JsonNode root, Path source) throws CorruptCheckpointException {
    for (String field : new String[] {"step", "epoch", "cursor", "rngSeed"}) {
      if (!root.path(field).isIntegralNumber() || !root.path(field).canConvertToLong()) {
        throw new CorruptCheckpointException(source + ": \"" + field + "\" must be an integer, found "
            + root.path(field));
      }
    }
    for (String field : new String[] {"tokenizerId", "configJson"}) {
      if (!root.path(field).isTextual()) {
        throw new CorruptCheckpointException(source + ": \"" + field + "\" must be a string, found "
            + root.path(field));
      }
    }
    // Optional: checkpoints written before the global data order have none (0).
    JsonNode globalBatch = root.path("globalBatch");
    if (!globalBatch.isMissingNode() && !(globalBatch.isIntegralNumber() && globalBatch.canConvertToLong())) {
      throw new CorruptCheckpointException(source + ": \"globalBatch\" must be an integer, found " + globalBatch);
    }
    try {
      return new TrainingState(root.path("step").asLong(), root.path("epoch").asLong(), root.path("cursor").asLong(),
          root.path("rngSeed").asLong(), root.path("configJson").asText(), root.path("tokenizerId").asText(),
          globalBatch.asLong(0));
    } catch (IllegalArgumentException e) {
      throw new CorruptCheckpointException(source + " holds an invalid training state: " + e.getMessage(), e);
    }
  }

  private static IncompatibleCheckpointException unknownVersion(Path source, int version) {
    return new IncompatibleCheckpointException(source + " has checkpoint format version " + version
        + ", but this build reads only version " + CheckpointFormat.FORMAT_VERSION + " (and "
        + CheckpointFormat.SHARDED_FORMAT_VERSION + ", with sharded optimizer state). HINT: it was written by "
        + "another ringtrain release; resume with that release, or start this run in a new checkpoint directory");
  }

  /** Parses one file from a stream that hashes what it reads. */
  @FunctionalInterface
  private interface Parser<T> {
    T parse(InputStream in) throws IOException;
  }

  /** Releases what a parser returned when its file then fails verification. */
  @FunctionalInterface
  private interface Discard<T> {
    void release(T value);
  }
}
