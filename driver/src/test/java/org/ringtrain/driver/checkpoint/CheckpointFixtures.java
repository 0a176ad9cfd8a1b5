/*
 * CheckpointFixtures: a tiny model, seeded buffers, a stepped optimizer and ways to damage a
 * checkpoint on the local disk, shared by the checkpoint tests. It is not a test itself and holds
 * no state between tests.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.ParameterLayout;

final class CheckpointFixtures {

  /** vocab 64, ctx 16, d 32, 2 layers, 2 heads: about 30k parameters, fast to write and read. */
  static final ModelConfig TINY = new ModelConfig(64, 16, 32, 2, 2, 0.0);

  private static final ObjectMapper JSON = new ObjectMapper();

  private CheckpointFixtures() {
  }

  static ParameterLayout layout() {
    return GptModel.layout(TINY);
  }

  /** A flat float32 buffer of the layout's size, uniform in [-0.1, 0.1), the same for the same seed. */
  static INDArray randomFlat(ParameterLayout layout, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] values = new float[(int) layout.totalElements()];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((random.nextDouble() * 2.0 - 1.0) * 0.1);
    }
    return Nd4j.createFromArray(values);
  }

  /** An AdamW that has taken one step on {@code params}, so its moments exist. */
  static AdamW steppedAdamW(ParameterLayout layout, INDArray params, long gradSeed) {
    AdamW adam = new AdamW(layout, AdamW.Config.defaults().withLr(1e-2));
    adam.step(params, randomFlat(layout, gradSeed));
    return adam;
  }

  static TrainingState state(long step) {
    return new TrainingState(step, 2, 7 * step, 1234L, "{\"lr\":0.01,\"batch\":4}", "byte");
  }

  /** The local directory of the checkpoint of {@code step} under {@code root}. */
  static Path checkpointDir(Path root, long step) {
    return root.resolve(CheckpointFormat.directoryName(step));
  }

  /** Flips every bit of the byte {@code fromEnd} bytes before the end of {@code file}. */
  static void flipByte(Path file, long fromEnd) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long at = raf.length() - fromEnd;
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(~b & 0xff);
    }
    dropHadoopCrc(file);
  }

  /** Cuts {@code file} to {@code size} bytes. */
  static void truncate(Path file, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
    dropHadoopCrc(file);
  }

  /**
   * Replaces a data file of a checkpoint and updates its manifest entry, so the checkpoint stays
   * intact by its checksums: what a different writer (another release) would have produced.
   */
  static void replaceVouched(Path checkpointDir, String name, byte[] content) throws Exception {
    Path file = checkpointDir.resolve(name);
    Files.write(file, content);
    dropHadoopCrc(file);
    Path manifestFile = checkpointDir.resolve(CheckpointFormat.MANIFEST_FILE);
    ObjectNode manifest = (ObjectNode) JSON.readTree(manifestFile.toFile());
    manifest.withArray("files").forEach(entry -> {
      if (entry.path("name").asText().equals(name)) {
        ((ObjectNode) entry).put("size", (long) content.length).put("sha256", sha256(content));
      }
    });
    writeJson(manifestFile, manifest);
  }

  /** Rewrites a JSON file of a checkpoint in place, with the local file system's checksum removed. */
  static void writeJson(Path file, ObjectNode json) throws IOException {
    Files.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
    dropHadoopCrc(file);
  }

  static ObjectNode readJson(Path file) throws IOException {
    return (ObjectNode) JSON.readTree(file.toFile());
  }

  /**
   * Hadoop's local file system keeps a CRC sidecar ({@code .name.crc}) per file and would reject a
   * file damaged behind its back on its own. Dropping the sidecar makes the damage visible only to
   * the checkpoint's SHA-256, which is what these tests exercise (HDFS and s3a keep no sidecars).
   */
  static void dropHadoopCrc(Path file) throws IOException {
    Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
  }

  static String sha256(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Fails with the first differing index unless the buffers hold bitwise the same floats. */
  static void assertBitwiseEqual(INDArray expected, INDArray actual, String what) {
    float[] e = expected.toFloatVector();
    float[] a = actual.toFloatVector();
    if (e.length != a.length) {
      fail(what + ": expected " + e.length + " elements, found " + a.length);
    }
    for (int i = 0; i < e.length; i++) {
      if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
        fail(what + ": first difference at index " + i + ": expected " + e[i] + ", found " + a[i]);
      }
    }
  }
}
