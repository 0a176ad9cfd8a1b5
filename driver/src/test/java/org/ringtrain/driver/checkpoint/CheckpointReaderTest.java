/*
 * CheckpointReaderTest: how the reader classifies one checkpoint directory: intact, corrupt
 * (manifest, sizes, checksums, cross-checks) or incompatible (unknown format versions). It does not
 * test choosing between checkpoints; CheckpointStoreTest does.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.checkpointDir;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.layout;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.randomFlat;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.state;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.steppedAdamW;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.ParameterLayout;

class CheckpointReaderTest {

  @TempDir
  Path root;

  private Path dir;
  private CheckpointReader reader;

  @BeforeEach
  void writeOneCheckpoint() throws Exception {
    ParameterLayout layout = layout();
    INDArray params = randomFlat(layout, 4);
    try (AdamW adam = steppedAdamW(layout, params, 5)) {
      new CheckpointStore(HadoopSettings.defaults(), root.toUri().toString(), 3).write(state(4), layout, params, adam);
    }
    dir = checkpointDir(root, 4);
    reader = new CheckpointReader(FileSystem.getLocal(new Configuration()));
  }

  private org.apache.hadoop.fs.Path hadoopDir() {
    return new org.apache.hadoop.fs.Path("file:" + dir);
  }

  @Test
  @Timeout(10)
  void theGlobalBatchRoundTripsAndReadsAsZeroFromAStateWithoutIt() throws Exception {
    org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path("file:/x/state.json");
    TrainingState written = new TrainingState(10, 2, 24, 7, "{}", "byte", 12);
    assertEquals(written, CheckpointReader.parseState(CheckpointWriter.stateJson(written), source));

    String withoutIt = new String(CheckpointWriter.stateJson(written), StandardCharsets.UTF_8)
        .replaceAll(",\\s*\"globalBatch\"\\s*:\\s*12", "");
    assertTrue(!withoutIt.contains("globalBatch"), withoutIt);
    assertEquals(0, CheckpointReader.parseState(withoutIt.getBytes(StandardCharsets.UTF_8), source).globalBatch(),
        "a checkpoint written before the global data order");

    String text = withoutIt.replace("\"step\"", "\"globalBatch\" : \"twelve\", \"step\"");
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
        () -> CheckpointReader.parseState(text.getBytes(StandardCharsets.UTF_8), source));
    assertTrue(e.getMessage().contains("\"globalBatch\" must be an integer, found \"twelve\""), e.getMessage());
  }

  @Test
  @Timeout(30)
  void intactCheckpointReadsBack() throws Exception {
    try (Checkpoint c = reader.read(hadoopDir(), layout())) {
      assertEquals(state(4), c.state());
      assertEquals(1, c.optimizer().stepCount());
    }
  }

  @Test
  @Timeout(30)
  void unknownManifestVersionIsRefusedWithAHint() throws Exception {
    Path manifest = dir.resolve(CheckpointFormat.MANIFEST_FILE);
    ObjectNode json = CheckpointFixtures.readJson(manifest);
    json.put("formatVersion", 3); // 2 is the sharded format
    CheckpointFixtures.writeJson(manifest, json);
    IncompatibleCheckpointException e = assertThrows(IncompatibleCheckpointException.class,
        () -> reader.read(hadoopDir(), layout()));
    assertTrue(e.getMessage().contains("MANIFEST.json has checkpoint format version 3, but this build reads only "
        + "version 1 (and 2, with sharded optimizer state). HINT:"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void unknownStateVersionIsRefusedEvenUnderAKnownManifest() throws Exception {
    ObjectNode state = CheckpointFixtures.readJson(dir.resolve(CheckpointFormat.STATE_FILE));
    state.put("formatVersion", 7);
    CheckpointFixtures.replaceVouched(dir, CheckpointFormat.STATE_FILE,
        state.toString().getBytes(StandardCharsets.UTF_8));
    IncompatibleCheckpointException e = assertThrows(IncompatibleCheckpointException.class,
        () -> reader.read(hadoopDir(), layout()));
    assertTrue(e.getMessage().contains("state.json has checkpoint format version 7"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void manifestWithoutMagicIsCorrupt() throws Exception {
    Path manifest = dir.resolve(CheckpointFormat.MANIFEST_FILE);
    ObjectNode json = CheckpointFixtures.readJson(manifest);
    json.put("magic", "something-else");
    CheckpointFixtures.writeJson(manifest, json);
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
        () -> reader.read(hadoopDir(), layout()));
    assertTrue(e.getMessage().contains("is not a ringtrain checkpoint manifest"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void garbageManifestIsCorrupt() throws Exception {
    Path manifest = dir.resolve(CheckpointFormat.MANIFEST_FILE);
    Files.write(manifest, "{\"magic\": \"ringtrain-chec".getBytes(StandardCharsets.UTF_8));
    CheckpointFixtures.dropHadoopCrc(manifest);
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
        () -> reader.read(hadoopDir(), layout()));
    assertTrue(e.getMessage().contains("is not valid JSON"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void flippedByteInTheOptimizerStateFailsItsChecksum() throws Exception {
    CheckpointFixtures.flipByte(dir.resolve(CheckpointFormat.OPTIMIZER_FILE), 100);
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
        () -> reader.read(hadoopDir(), layout()));
    assertTrue(e.getMessage().contains("optimizer.bin fails its SHA-256 check"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void flippedByteUnderHadoopsOwnChecksumIsCorruptToo() throws Exception {
    Path model = dir.resolve(CheckpointFormat.MODEL_FILE);
    byte[] bytes = Files.readAllBytes(model);
    bytes[bytes.length - 9] ^= 0x40;
    Files.write(model, bytes); // keeps the .crc sidecar, now stale
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
        () -> reader.read(hadoopDir(), layout()));
    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void weightsOfAnotherStepAreCorrupt() throws Exception {
    // A directory renamed by hand: its name no longer matches what its manifest vouches for.
    Path renamed = root.resolve(CheckpointFormat.directoryName(5));
    Files.move(dir, renamed);
    dir = renamed;
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
        () -> reader.read(hadoopDir(), layout()));
    assertTrue(e.getMessage().contains("says step 5 but its manifest says step 4"), e.getMessage());
  }
}
