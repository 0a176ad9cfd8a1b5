/*
 * CheckpointStoreTest: the store's behaviour on the local file system through Hadoop's API: round
 * trip, retention, fallback past corrupt, truncated and partial checkpoints with a WARN each,
 * leftover temporary directories, refusal of what cannot be used, and checkWritable. It does not
 * start Spark or test other file systems.
 *
 * Why over 300 lines: one store, one concept - each fault the store must survive is one short
 * test against the same temporary directory and the same write/corrupt helpers.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.assertBitwiseEqual;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.checkpointDir;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.layout;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.randomFlat;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.state;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.steppedAdamW;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.io.SafetensorsReader;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.ParameterLayout;

class CheckpointStoreTest {

  @TempDir
  Path root;

  private CheckpointStore store(int keepLast) {
    return new CheckpointStore(HadoopSettings.defaults(), root.toUri().toString(), keepLast);
  }

  /** Writes a checkpoint of {@code step} with parameters seeded by the step. */
  private static void writeStep(CheckpointStore store, long step) throws IOException {
    ParameterLayout layout = layout();
    INDArray params = randomFlat(layout, step);
    try (AdamW adam = steppedAdamW(layout, params, step + 1000)) {
      store.write(state(step), layout, params, adam);
    }
  }

  private static long loadedStep(CheckpointStore store) throws IOException {
    try (Checkpoint c = store.loadLatestValid(layout()).orElseThrow()) {
      return c.state().step();
    }
  }

  /** Visible directory names under root, sorted. */
  private List<String> names() throws IOException {
    try (Stream<Path> s = Files.list(root)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
    }
  }

  @Test
  @Timeout(60)
  void roundTripRestoresParametersBitwiseAndTheNextOptimizerStepIdentically() throws Exception {
    ParameterLayout layout = layout();
    INDArray params = randomFlat(layout, 1);
    INDArray nextGrads = randomFlat(layout, 3);
    try (AdamW adam = steppedAdamW(layout, params, 2)) {
      String written = store(3).write(state(5), layout, params, adam);
      try (Checkpoint loaded = store(3).loadLatestValid(layout).orElseThrow()) {
        assertEquals(written, loaded.path());
        assertEquals(state(5), loaded.state());
        assertBitwiseEqual(params, loaded.params(), "parameters after reload");
        assertEquals(adam.stepCount(), loaded.optimizer().stepCount());
        assertTrue(loaded.optimizer() instanceof AdamW, "restored optimizer is " + loaded.optimizer());
        assertEquals(adam.config(), ((AdamW) loaded.optimizer()).config());
        adam.step(params, nextGrads);
        loaded.optimizer().step(loaded.params(), nextGrads);
        assertBitwiseEqual(params, loaded.params(), "parameters after one more AdamW step");
      }
    }
  }

  @Test
  @Timeout(30)
  void weightsAreSafetensorsWithStepAndModelConfigInTheMetadata() throws Exception {
    writeStep(store(3), 7);
    ParameterLayout layout = layout();
    INDArray into = randomFlat(layout, 99);
    Map<String, String> metadata = new SafetensorsReader(layout)
        .read(checkpointDir(root, 7).resolve(CheckpointFormat.MODEL_FILE), into);
    try (Checkpoint loaded = store(3).loadLatestValid(layout).orElseThrow()) {
      assertBitwiseEqual(loaded.params(), into, "weights read by the plain safetensors reader");
    }
    assertEquals("7", metadata.get(CheckpointFormat.STEP_METADATA_KEY));
    assertEquals("byte", metadata.get(CheckpointFormat.TOKENIZER_METADATA_KEY));
    assertTrue(metadata.get(SafetensorsWriter.MODEL_CONFIG_KEY).contains("\"n_embd\":32"),
        "model config metadata: " + metadata);
  }

  @Test
  @Timeout(60)
  void keepsOnlyTheNewestKeepLastCheckpoints() throws Exception {
    CheckpointStore store = store(2);
    for (long step : new long[] {10, 20, 30, 40}) {
      writeStep(store, step);
    }
    assertEquals(List.of("step-000000030", "step-000000040"),
        store.list().stream().map(p -> p.substring(p.lastIndexOf('/') + 1)).toList());
    assertEquals(List.of("step-000000030", "step-000000040"), names());
  }

  @Test
  @Timeout(60)
  void corruptNewestCheckpointIsSkippedWithAWarningAndThePreviousLoaded() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    writeStep(store, 20);
    CheckpointFixtures.flipByte(checkpointDir(root, 20).resolve(CheckpointFormat.MODEL_FILE), 5);
    try (LogCapture log = LogCapture.warningsOf(CheckpointStore.class)) {
      assertEquals(10, loadedStep(store));
      assertEquals(1, log.warnings().size(), "warnings: " + log.warnings());
      String warning = log.warnings().get(0);
      assertTrue(warning.contains("step-000000020") && warning.contains("SHA-256")
          && warning.contains("falling back"), warning);
    }
  }

  @Test
  @Timeout(60)
  void latestStateVerifiesEveryFileAndAgreesWithLoadLatestValid() throws Exception {
    CheckpointStore store = store(3);
    assertTrue(store.latestState().isEmpty());
    writeStep(store, 10);
    writeStep(store, 20);
    assertEquals(state(20), store.latestState().orElseThrow());
    CheckpointFixtures.flipByte(checkpointDir(root, 20).resolve(CheckpointFormat.OPTIMIZER_FILE), 50);
    try (LogCapture log = LogCapture.warningsOf(CheckpointStore.class)) {
      assertEquals(state(10), store.latestState().orElseThrow());
      assertEquals(10, loadedStep(store));
      assertEquals(2, log.warnings().size(), "one skip each: " + log.warnings());
    }
  }

  @Test
  @Timeout(60)
  void loadVerifiesAnyListedCheckpointNotOnlyTheNewest() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    writeStep(store, 20);
    List<String> listed = store.list();
    try (Checkpoint c = store.load(listed.get(0), layout())) {
      assertEquals(state(10), c.state());
    }
    CheckpointFixtures.flipByte(checkpointDir(root, 20).resolve(CheckpointFormat.MODEL_FILE), 5);
    CorruptCheckpointException corrupt = assertThrows(CorruptCheckpointException.class,
        () -> store.load(listed.get(1), layout()));
    assertTrue(corrupt.getMessage().contains("SHA-256"), corrupt.getMessage());
    IllegalArgumentException elsewhere = assertThrows(IllegalArgumentException.class,
        () -> store.load(root.getParent().resolve("step-000000010").toUri().toString(), layout()));
    assertTrue(elsewhere.getMessage().contains("not in this store's directory"), elsewhere.getMessage());
  }

  @Test
  @Timeout(60)
  void truncatedFileIsSkippedWithAWarning() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    writeStep(store, 20);
    Path optimizer = checkpointDir(root, 20).resolve(CheckpointFormat.OPTIMIZER_FILE);
    CheckpointFixtures.truncate(optimizer, Files.size(optimizer) / 2);
    try (LogCapture log = LogCapture.warningsOf(CheckpointStore.class)) {
      assertEquals(10, loadedStep(store));
      assertEquals(1, log.warnings().size(), "warnings: " + log.warnings());
      assertTrue(log.warnings().get(0).contains("optimizer.bin is truncated"), log.warnings().get(0));
    }
  }

  @Test
  @Timeout(60)
  void checkpointWithoutManifestIsPartialSkippedAndNotListed() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    writeStep(store, 20);
    Path manifest = checkpointDir(root, 20).resolve(CheckpointFormat.MANIFEST_FILE);
    Files.delete(manifest);
    CheckpointFixtures.dropHadoopCrc(manifest);
    try (LogCapture log = LogCapture.warningsOf(CheckpointStore.class)) {
      assertEquals(10, loadedStep(store));
      assertEquals(1, log.warnings().size(), "warnings: " + log.warnings());
      assertTrue(log.warnings().get(0).contains("no MANIFEST.json"), log.warnings().get(0));
    }
    assertEquals(1, store.list().size(), "listed: " + store.list());
    assertTrue(store.list().get(0).endsWith("step-000000010"), store.list().toString());
  }

  @Test
  @Timeout(60)
  void whenEveryCheckpointIsCorruptNothingIsLoadedAndEachIsReported() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    writeStep(store, 20);
    for (long step : new long[] {10, 20}) {
      CheckpointFixtures.flipByte(checkpointDir(root, step).resolve(CheckpointFormat.STATE_FILE), 3);
    }
    try (LogCapture log = LogCapture.warningsOf(CheckpointStore.class)) {
      assertTrue(store.loadLatestValid(layout()).isEmpty());
      assertEquals(3, log.warnings().size(), "two skipped checkpoints and a summary: " + log.warnings());
    }
  }

  @Test
  @Timeout(60)
  void leftoverTemporaryDirectoryIsIgnoredAndCleanedUpOnTheNextWrite() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    Path crashed = root.resolve("step-000000020.tmp-0f1e2d3c");
    Files.createDirectories(crashed);
    Files.write(crashed.resolve(CheckpointFormat.MODEL_FILE), new byte[] {1, 2, 3});
    assertEquals(1, store.list().size(), "listed: " + store.list());
    try (LogCapture log = LogCapture.warningsOf(CheckpointStore.class)) {
      assertEquals(10, loadedStep(store));
      assertEquals(List.of(), log.warnings());
    }
    writeStep(store, 30);
    assertFalse(Files.exists(crashed), "the leftover temporary directory should be gone: " + names());
    assertEquals(List.of("step-000000010", "step-000000030"), names());
  }

  @Test
  @Timeout(60)
  void writingTheSameStepAgainReplacesTheCheckpoint() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    ParameterLayout layout = layout();
    INDArray params = randomFlat(layout, 77);
    try (AdamW adam = steppedAdamW(layout, params, 78)) {
      store.write(state(10), layout, params, adam);
    }
    try (Checkpoint loaded = store.loadLatestValid(layout).orElseThrow()) {
      assertBitwiseEqual(params, loaded.params(), "parameters of the second write");
    }
    assertEquals(List.of("step-000000010"), names());
  }

  @Test
  @Timeout(60)
  void checkpointsNewerThanTheOneWrittenAreLeftAloneWithAWarning() throws Exception {
    CheckpointStore store = store(1);
    writeStep(store, 30);
    try (LogCapture log = LogCapture.warningsOf(CheckpointDirectory.class)) {
      writeStep(store, 20);
      assertEquals(1, log.warnings().size(), "warnings: " + log.warnings());
      assertTrue(log.warnings().get(0).contains("step-000000030 is newer than the checkpoint just written"),
          log.warnings().get(0));
    }
    assertEquals(List.of("step-000000020", "step-000000030"), names());
  }

  @Test
  @Timeout(30)
  void failedWriteLeavesNoTemporaryDirectory() throws Exception {
    CheckpointStore store = store(3);
    ParameterLayout layout = layout();
    INDArray params = randomFlat(layout, 1);
    try (AdamW adam = steppedAdamW(layout, params, 2)) {
      INDArray tooShort = randomFlat(GptModel.layout(new ModelConfig(64, 16, 32, 1, 2, 0.0)), 3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> store.write(state(10), layout, tooShort, adam));
      assertTrue(e.getMessage().contains("elements"), e.getMessage());
    }
    assertEquals(List.of(), names());
    assertEquals(List.of(), store.list());
  }

  @Test
  @Timeout(60)
  void unknownFormatVersionIsRefusedRatherThanSkipped() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    writeStep(store, 20);
    Path stateFile = checkpointDir(root, 20).resolve(CheckpointFormat.STATE_FILE);
    ObjectNode state = CheckpointFixtures.readJson(stateFile);
    state.put("formatVersion", 99);
    CheckpointFixtures.replaceVouched(checkpointDir(root, 20), CheckpointFormat.STATE_FILE,
        state.toString().getBytes(StandardCharsets.UTF_8));
    IncompatibleCheckpointException e = assertThrows(IncompatibleCheckpointException.class,
        () -> store.loadLatestValid(layout()));
    assertTrue(e.getMessage().contains("format version 99") && e.getMessage().contains("reads only version 1")
        && e.getMessage().contains("HINT"), e.getMessage());
  }

  @Test
  @Timeout(60)
  void checkpointOfAnotherModelConfigIsRefusedWithAHint() throws Exception {
    CheckpointStore store = store(3);
    writeStep(store, 10);
    ParameterLayout wider = GptModel.layout(new ModelConfig(64, 16, 32, 3, 2, 0.0));
    IncompatibleCheckpointException e = assertThrows(IncompatibleCheckpointException.class,
        () -> store.loadLatestValid(wider));
    assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("HINT"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void missingDirectoryHoldsNoCheckpoint() throws Exception {
    CheckpointStore store = new CheckpointStore(HadoopSettings.defaults(), root.resolve("never-written").toString(), 3);
    assertTrue(store.loadLatestValid(layout()).isEmpty());
    assertEquals(List.of(), store.list());
  }

  @Test
  @Timeout(60)
  void fileUriAndPlainPathNameTheSameDirectory() throws Exception {
    Path dir = root.resolve("ckpt");
    CheckpointStore byUri = new CheckpointStore(HadoopSettings.defaults(), "file:" + dir, 3);
    CheckpointStore byPath = new CheckpointStore(HadoopSettings.defaults(), dir.toString(), 3);
    writeStep(byUri, 10);
    writeStep(byPath, 20);
    assertEquals(byUri.list(), byPath.list());
    assertEquals(2, byPath.list().size());
    assertEquals(20, loadedStep(byUri));
    assertEquals(20, loadedStep(byPath));
  }

  @Test
  @Timeout(60)
  void storeSurvivesJavaSerialisationAsWhenShippedToAnExecutor() throws Exception {
    CheckpointStore original = store(2);
    writeStep(original, 10);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(original);
    }
    CheckpointStore copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (CheckpointStore) in.readObject();
    }
    writeStep(copy, 20);
    assertEquals(20, loadedStep(original));
    assertEquals(2, copy.keepLast());
    assertEquals(original.runId(), copy.runId());
  }

  @Test
  @Timeout(60)
  void everyManifestRecordsTheRunIdOfTheStoreThatWroteIt() throws Exception {
    writeStep(new CheckpointStore(HadoopSettings.defaults(), root.toUri().toString(), 3, "run-a"), 10);
    writeStep(new CheckpointStore(HadoopSettings.defaults(), root.toUri().toString(), 3, "run-b"), 20);
    assertEquals("run-a", CheckpointFixtures.readJson(checkpointDir(root, 10).resolve(CheckpointFormat.MANIFEST_FILE))
        .path("runId").asText());
    assertEquals("run-b", CheckpointFixtures.readJson(checkpointDir(root, 20).resolve(CheckpointFormat.MANIFEST_FILE))
        .path("runId").asText());
    assertFalse(store(3).runId().isBlank(), "a store given no run id makes one up");
  }

  @Test
  @Timeout(30)
  void checkWritableCreatesTheDirectoryAndLeavesNothingBehind() throws Exception {
    Path dir = root.resolve("a/b/c");
    new CheckpointStore(HadoopSettings.defaults(), dir.toString(), 3).checkWritable();
    assertTrue(Files.isDirectory(dir));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(), s.toList());
    }
  }

  @Test
  @Timeout(30)
  void checkWritableRejectsADirectoryBelowAFile() throws Exception {
    Path file = Files.write(root.resolve("plain-file"), new byte[] {42});
    CheckpointStore store = new CheckpointStore(HadoopSettings.defaults(), file.resolve("ckpt").toUri().toString(), 3);
    IOException e = assertThrows(IOException.class, store::checkWritable);
    assertTrue(e.getMessage().startsWith("checkpoint directory ") && e.getMessage().contains("is not writable: ")
        && e.getMessage().endsWith("; choose a directory you can write"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void checkWritableRejectsAPathThatIsAFile() throws Exception {
    Path file = Files.write(root.resolve("plain-file"), new byte[] {42});
    CheckpointStore store = new CheckpointStore(HadoopSettings.defaults(), file.toString(), 3);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, store::checkWritable);
    assertTrue(e.getMessage().contains("is not writable: it is an existing file"), e.getMessage());
  }

  @Test
  @Timeout(30)
  void checkWritableRejectsAReadOnlyDirectory() throws Exception {
    Path dir = Files.createDirectory(root.resolve("read-only"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      assumeFalse(Files.isWritable(dir), "this user (root?) can write a read-only directory");
      CheckpointStore store = new CheckpointStore(HadoopSettings.defaults(), dir.toString(), 3);
      IOException e = assertThrows(IOException.class, store::checkWritable);
      assertTrue(e.getMessage().contains("is not writable") && e.getMessage().contains(dir.toString()),
          e.getMessage());
    } finally {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  @Timeout(30)
  void constructorRejectsBadArgumentsWithTheValueFound() {
    IllegalArgumentException keep = assertThrows(IllegalArgumentException.class,
        () -> new CheckpointStore(HadoopSettings.defaults(), "file:/tmp/x", 0));
    assertTrue(keep.getMessage().contains("keepLast=0"), keep.getMessage());
    IllegalArgumentException blank = assertThrows(IllegalArgumentException.class,
        () -> new CheckpointStore(HadoopSettings.defaults(), " ", 3));
    assertTrue(blank.getMessage().contains("must not be blank"), blank.getMessage());
  }
}
