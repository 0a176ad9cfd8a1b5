/*
 * CheckpointWriter: writes the files of one checkpoint (weights, optimizer state, training state,
 * then the manifest with their sizes and SHA-256) into a directory on a Hadoop FileSystem. It is
 * not atomic by itself and does not name, rename or prune directories: CheckpointStore does.
 */
package org.ringtrain.driver.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.optim.Optimizer;
import org.ringtrain.ops.optim.OptimizerStateWriter;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;

/**
 * Writes checkpoint files in format version {@value CheckpointFormat#FORMAT_VERSION}, or
 * {@value CheckpointFormat#SHARDED_FORMAT_VERSION} with per-rank optimizer slices (see
 * {@link CheckpointFormat}). Each file is hashed while it is streamed out, so nothing is read back.
 * The manifest is written last: a directory without one is, by construction, incomplete.
 */
final class CheckpointWriter {

  /** Buffer between the serialisers and the file system: 1 MiB. */
  static final int BUFFER_BYTES = 1 << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final FileSystem fs;

  CheckpointWriter(FileSystem fs) {
    this.fs = fs;
  }

  /**
   * Writes a complete checkpoint into {@code dir}, which must exist and hold none of its files.
   *
   * @param runId the run writing it, recorded in the manifest
   * @return the manifest written
   * @throws IllegalArgumentException when a parameter is NaN or infinite: nothing is written
   * @throws IOException              from the file system; files already written stay for the caller
   *                                  to delete
   */
  Manifest write(Path dir, String runId, TrainingState state, ParameterLayout layout, INDArray params,
      Optimizer optimizer) throws IOException {
    return write(dir, runId, state, layout, params, optimizer, List.of());
  }

  /**
   * Rank {@code rank}'s part of a sharded checkpoint: its optimizer slice, into {@code dir}.
   *
   * @return the slice's manifest entry (name, size, SHA-256)
   */
  Manifest.Entry writeSlice(Path dir, AdamW optimizer, int rank, int worldSize) throws IOException {
    return writeFile(dir, CheckpointFormat.optimizerSliceName(rank, worldSize),
        out -> OptimizerSlice.write(optimizer, rank, worldSize, out));
  }

  /**
   * The rest of a sharded checkpoint, once every rank's slice is in {@code dir}: the weights,
   * AdamW's hyper-parameters, the training state, then the manifest (format version
   * {@value CheckpointFormat#SHARDED_FORMAT_VERSION}) listing them and the {@code slices}.
   */
  Manifest writeSharded(Path dir, String runId, TrainingState state, ParameterLayout layout, INDArray params,
      AdamW optimizer, List<Manifest.Entry> slices) throws IOException {
    AdamW hyperParametersOnly = AdamW.restore(layout, optimizer.config(), 0, null, null);
    return write(dir, runId, state, layout, params, hyperParametersOnly, slices);
  }

  private Manifest write(Path dir, String runId, TrainingState state, ParameterLayout layout, INDArray params,
      Optimizer optimizer, List<Manifest.Entry> slices) throws IOException {
    refuseNonFinite(state.step(), layout, params);
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put(CheckpointFormat.STEP_METADATA_KEY, Long.toString(state.step()));
    metadata.put(CheckpointFormat.TOKENIZER_METADATA_KEY, state.tokenizerId());
    SafetensorsWriter weights = new SafetensorsWriter(layout);
    byte[] stateJson = stateJson(state);
    List<Manifest.Entry> entries = new ArrayList<>();
    entries.add(writeFile(dir, CheckpointFormat.MODEL_FILE, out -> weights.write(params, metadata, out)));
    entries.add(writeFile(dir, CheckpointFormat.OPTIMIZER_FILE, out -> OptimizerStateWriter.write(optimizer, out)));
    entries.add(writeFile(dir, CheckpointFormat.STATE_FILE, out -> out.write(stateJson)));
    entries.addAll(slices);
    Manifest manifest = new Manifest(slices.isEmpty() ? CheckpointFormat.FORMAT_VERSION
        : CheckpointFormat.SHARDED_FORMAT_VERSION, state.step(), runId, entries);
    byte[] manifestJson = manifest.toJson();
    writeFile(dir, CheckpointFormat.MANIFEST_FILE, out -> out.write(manifestJson));
    return manifest;
  }

  /**
   * Refuses parameters holding a NaN or an infinity: such a checkpoint would verify (its checksums
   * are of NaN bytes), be the newest, and let retention delete the finite ones before it. A plain
   * indexed loop over the flat buffer, once per checkpoint.
   */
  static void refuseNonFinite(long step, ParameterLayout layout, INDArray params) {
    // asNio() spans the whole underlying buffer from its start, so a view is indexed by offset().
    FloatBuffer floats = params.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    int offset = Math.toIntExact(params.offset());
    int n = Math.toIntExact(params.length());
    for (int i = 0; i < n; i++) {
      float v = floats.get(offset + i);
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException("refusing to write the checkpoint of step " + step
            + ": expected finite parameters, but found " + v + " at flat element " + i + " (tensor "
            + tensorAt(layout, i) + "); the run diverged before this step. Resume from the newest"
            + " checkpoint with a lower learningRate or a gradClip, or set onNonFinite: skip");
      }
    }
  }

  private static String tensorAt(ParameterLayout layout, long element) {
    for (TensorSpec t : layout.tensors()) {
      if (element >= t.offset() && element < t.offset() + t.length()) {
        return t.name();
      }
    }
    return "outside the layout";
  }

  /** state.json of format version 1. */
  static byte[] stateJson(TrainingState state) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("magic", CheckpointFormat.MAGIC);
    root.put("formatVersion", CheckpointFormat.FORMAT_VERSION);
    root.put("step", state.step());
    root.put("epoch", state.epoch());
    root.put("cursor", state.cursor());
    root.put("rngSeed", state.rngSeed());
    root.put("tokenizerId", state.tokenizerId());
    root.put("globalBatch", state.globalBatch());
    root.put("configJson", state.configJson());
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
  }

  /** Lowercase hex SHA-256, the form the manifest stores. */
  static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  /** A fresh SHA-256 digest; every JDK has one. */
  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256 MessageDigest, which every Java SE must provide", e);
    }
  }

  private Manifest.Entry writeFile(Path dir, String name, Body body) throws IOException {
    Path file = new Path(dir, name);
    MessageDigest sha = sha256();
    // overwrite=false: the directory is fresh, so an existing file means two writers share it.
    try (FSDataOutputStream raw = fs.create(file, false)) {
      OutputStream out = new BufferedOutputStream(new DigestOutputStream(raw, sha), BUFFER_BYTES);
      body.write(out);
      out.flush();
      // Durable before the manifest vouches for it, where the file system can sync; s3a cannot and
      // would log a warning per file, so ask first.
      if (raw.hasCapability(StreamCapabilities.HSYNC)) {
        raw.hsync();
      }
    }
    return new Manifest.Entry(name, fs.getFileStatus(file).getLen(), hex(sha.digest()));
  }

  /** Writes one file's content to a stream. */
  @FunctionalInterface
  private interface Body {
    void write(OutputStream out) throws IOException;
  }
}
