/*
 * CheckpointDirectoryTest: retention on the local file system through Hadoop's API: only
 * checkpoints that verify count towards keepLast, so the newest verified one survives however many
 * newer ones are corrupt, and corrupt old ones are deleted. It does not test loading (see
 * CheckpointStoreTest) or other file systems.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.checkpointDir;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.layout;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.randomFlat;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.state;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.steppedAdamW;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(60)
class CheckpointDirectoryTest {

  @TempDir
  Path root;

  private CheckpointStore store(int keepLast) {
    return new CheckpointStore(HadoopSettings.defaults(), root.toUri().toString(), keepLast, "run-test");
  }

  private static void writeStep(CheckpointStore store, long step) throws IOException {
    ParameterLayout layout = layout();
    INDArray params = randomFlat(layout, step);
    try (AdamW adam = steppedAdamW(layout, params, step + 1000)) {
      store.write(state(step), layout, params, adam);
    }
  }

  private void corrupt(long step) throws IOException {
    CheckpointFixtures.flipByte(checkpointDir(root, step).resolve(CheckpointFormat.MODEL_FILE), 5);
  }

  private List<String> names() throws IOException {
    try (Stream<Path> s = Files.list(root)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
    }
  }

  @Test
  void retentionNeverDeletesTheNewestVerifiedCheckpointWhenNewerOnesAreCorrupt() throws Exception {
    CheckpointStore store = store(3);
    for (long step : new long[] {10, 20, 30}) {
      writeStep(store, step);
    }
    corrupt(20);
    corrupt(30);
    org.apache.hadoop.fs.Path qualified = new org.apache.hadoop.fs.Path(root.toUri());
    FileSystem fs = qualified.getFileSystem(new Configuration());
    new CheckpointDirectory(fs, qualified).cleanUp(30, 2);
    // Step 10 is the only checkpoint a resume can use; the corrupt step 30 is the one just written.
    assertEquals(List.of("step-000000010", "step-000000030"), names());
    try (Checkpoint c = store.loadLatestValid(layout()).orElseThrow()) {
      assertEquals(10, c.state().step());
    }
  }

  @Test
  void onlyCheckpointsThatVerifyCountTowardsKeepLast() throws Exception {
    CheckpointStore store = store(2);
    writeStep(store, 10);
    writeStep(store, 20);
    corrupt(20);
    writeStep(store, 30);
    // Two loadable checkpoints remain (30 and 10); the corrupt 20 is gone.
    assertEquals(List.of("step-000000010", "step-000000030"), names());
  }
}
