/*
 * Manifest: the list of a checkpoint's files with their sizes and SHA-256 digests, and its JSON
 * form (MANIFEST.json). It does not compute digests or touch the file system; CheckpointWriter and
 * CheckpointReader do.
 */
package org.ringtrain.driver.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a checkpoint holds: every data file's name, size in bytes and lowercase hex SHA-256.
 *
 * @param formatVersion the checkpoint format version the manifest was written in
 * @param step          the training step of the checkpoint
 * @param runId         the run that wrote the checkpoint; null for checkpoints written before run ids
 * @param files         one entry per data file, in the order they were written
 */
record Manifest(int formatVersion, long step, String runId, List<Entry> files) {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  Manifest {
    files = List.copyOf(files);
  }

  /**
   * One file of a checkpoint.
   *
   * @param name   file name inside the checkpoint directory
   * @param size   size in bytes
   * @param sha256 lowercase hex SHA-256 of the whole file
   */
  record Entry(String name, long size, String sha256) {
  }

  /** The entry of {@code name}, if listed. */
  Optional<Entry> entry(String name) {
    return files.stream().filter(e -> e.name().equals(name)).findFirst();
  }

  /** The manifest as UTF-8 JSON, with the magic. */
  byte[] toJson() throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("magic", CheckpointFormat.MAGIC);
    root.put("formatVersion", formatVersion);
    root.put("step", step);
    if (runId != null) {
      root.put("runId", runId);
    }
    ArrayNode list = root.putArray("files");
    for (Entry e : files) {
      list.addObject().put("name", e.name()).put("size", e.size()).put("sha256", e.sha256());
    }
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
  }

  /**
   * The magic and format version of a manifest, checked before anything else is interpreted.
   *
   * @throws CorruptCheckpointException if {@code json} is not a JSON object with the magic and an int version
   */
  static JsonNode parseHeader(byte[] json, String source) throws CorruptCheckpointException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new CorruptCheckpointException(source + " is not valid JSON (" + e.getMessage()
          + "); the manifest is corrupt", e);
    }
    if (root == null || !root.isObject() || !CheckpointFormat.MAGIC.equals(root.path("magic").asText(null))) {
      throw new CorruptCheckpointException(source + " is not a ringtrain checkpoint manifest: expected a JSON "
          + "object with \"magic\":\"" + CheckpointFormat.MAGIC + "\", found "
          + abbreviate(new String(json, StandardCharsets.UTF_8)));
    }
    if (!root.path("formatVersion").isInt()) {
      throw new CorruptCheckpointException(source + ": \"formatVersion\" must be an integer, found "
          + root.path("formatVersion") + "; the manifest is corrupt");
    }
    return root;
  }

  /**
   * Reads the rest of a version-1 manifest whose header {@link #parseHeader} accepted; {@code runId}
   * is optional (checkpoints written before run ids have none).
   *
   * @throws CorruptCheckpointException for missing or malformed fields
   */
  static Manifest parseV1(JsonNode root, String source) throws CorruptCheckpointException {
    JsonNode step = root.path("step");
    JsonNode files = root.path("files");
    if (!step.canConvertToLong() || step.asLong() < 0 || !files.isArray()) {
      throw new CorruptCheckpointException(source + ": expected \"step\" (an integer >= 0) and \"files\" (an "
          + "array), found step=" + step + ", files=" + abbreviate(files.toString()) + "; the manifest is corrupt");
    }
    List<Entry> entries = new ArrayList<>();
    for (JsonNode f : files) {
      JsonNode name = f.path("name");
      JsonNode size = f.path("size");
      String sha = f.path("sha256").asText("");
      if (!name.isTextual() || !size.canConvertToLong() || size.asLong() < 0 || !SHA256_HEX.matcher(sha).matches()) {
        throw new CorruptCheckpointException(source + ": malformed file entry " + abbreviate(f.toString())
            + ", expected {\"name\": text, \"size\": integer >= 0, \"sha256\": 64 lowercase hex digits}; "
            + "the manifest is corrupt");
      }
      entries.add(new Entry(name.asText(), size.asLong(), sha));
    }
    JsonNode runId = root.path("runId");
    if (!runId.isMissingNode() && !runId.isTextual()) {
      throw new CorruptCheckpointException(source + ": \"runId\" must be a string when present, found " + runId
          + "; the manifest is corrupt");
    }
    return new Manifest(root.path("formatVersion").asInt(), step.asLong(), runId.isTextual() ? runId.asText() : null,
        entries);
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? "'" + s + "'" : "'" + s.substring(0, 120) + "...' (" + s.length() + " chars)";
  }
}
