/*
 * OptimizerSliceTest: sharded checkpoints on a local file system, written rank by rank as the
 * rank loop does (without a ring: the slices' sizes and digests are handed over directly): they
 * load as one optimizer equal to the unsharded one, a rank resuming at another world size reads
 * only the bytes of its own ranges, and a corrupt, missing or unlisted slice is detected like any
 * other checkpoint file. The ring exchange and resuming at another world size
 * are ShardedOptimizerStepTest's.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.optim.OwnedRanges;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(60)
class OptimizerSliceTest {

  private static final int WORLD = 3;

  @TempDir
  Path root;

  /** Rank r of 3 owns the r-th third of each of two "buckets", cut inside tensors. */
  private static OwnedRanges owned(ParameterLayout layout, int r) {
    long n = layout.totalElements();
    long cut = n / 2 + 11;
    return OwnedRanges.of(layout, new long[] {cut * r / WORLD, cut + (n - cut) * r / WORLD},
        new long[] {cut * (r + 1) / WORLD, cut + (n - cut) * (r + 1) / WORLD});
  }

  /** Writes the sharded checkpoint of step 5 of {@code full}'s state, every rank's slice then rank 0's rest. */
  private CheckpointStore writeSharded(ParameterLayout layout, INDArray params, AdamW full) throws Exception {
    CheckpointStore store = new CheckpointStore(HadoopSettings.defaults(), root.toUri().toString(), 3, "run-a");
    ShardedCheckpointWriter writer = new ShardedCheckpointWriter(store);
    writer.begin(5);
    List<ShardedCheckpointWriter.SliceFile> slices = new ArrayList<>();
    AdamW[] shards = new AdamW[WORLD];
    for (int r = 0; r < WORLD; r++) {
      shards[r] = full.shard(owned(layout, r));
      slices.add(writer.writeSlice(5, shards[r], r, WORLD));
    }
    writer.commit(CheckpointFixtures.state(5), layout, params, shards[0], slices);
    for (AdamW s : shards) {
      s.close();
    }
    return store;
  }

  @Test
  void slicesOfEveryRankLoadAsTheUnshardedOptimizer() throws Exception {
    ParameterLayout layout = CheckpointFixtures.layout();
    INDArray params = CheckpointFixtures.randomFlat(layout, 1);
    try (AdamW full = CheckpointFixtures.steppedAdamW(layout, params, 2)) {
      CheckpointStore store = writeSharded(layout, params, full);
      try (Checkpoint ck = store.loadLatestValid(layout).orElseThrow(); AdamW loaded = ck.slices().assemble()) {
        assertEquals(full.stepCount(), loaded.stepCount());
        assertEquals(full.config(), loaded.config());
        CheckpointFixtures.assertBitwiseEqual(full.ownedMoments()[0], loaded.ownedMoments()[0], "m");
        CheckpointFixtures.assertBitwiseEqual(full.ownedMoments()[1], loaded.ownedMoments()[1], "v");
        CheckpointFixtures.assertBitwiseEqual(params, ck.params(), "params");
      }
      Path dir = CheckpointFixtures.checkpointDir(root, 5);
      for (int r = 0; r < WORLD; r++) {
        assertTrue(Files.exists(dir.resolve(CheckpointFormat.optimizerSliceName(r, WORLD))), "slice " + r);
      }
      assertEquals(2, CheckpointFixtures.readJson(dir.resolve(CheckpointFormat.MANIFEST_FILE))
          .path("formatVersion").asInt());
    }
  }

  @Test
  void aRankOfAnotherWorldSizeReadsOnlyTheBytesOfItsOwnRanges() throws Exception {
    ParameterLayout layout = CheckpointFixtures.layout();
    INDArray params = CheckpointFixtures.randomFlat(layout, 1);
    long n = layout.totalElements();
    try (AdamW full = CheckpointFixtures.steppedAdamW(layout, params, 2)) {
      CheckpointStore store = writeSharded(layout, params, full);
      try (Checkpoint ck = store.loadLatestValid(layout).orElseThrow()) {
        assertNull(ck.optimizer(), "a sharded checkpoint's state stays in its files until a rank reads it");
        // Two ranks now; rank 1 owns two ranges that straddle the 3-rank slices' boundaries.
        OwnedRanges mine = OwnedRanges.of(layout, new long[] {n / 5, n / 2 + 3}, new long[] {n / 3 + 7, 3 * n / 4});
        try (AdamW shard = ck.slices().shard(mine); AdamW expected = full.shard(mine)) {
          assertEquals(8 * mine.elements(), ck.slices().bytesRead(), "m and v of the owned elements, no more");
          assertTrue(8 * mine.elements() < 8 * n / 2, "under half of the state is read");
          assertEquals(full.stepCount(), shard.stepCount());
          CheckpointFixtures.assertBitwiseEqual(expected.ownedMoments()[0], shard.ownedMoments()[0], "m");
          CheckpointFixtures.assertBitwiseEqual(expected.ownedMoments()[1], shard.ownedMoments()[1], "v");
        }
      }
    }
  }

  @Test
  void aCorruptSliceFailsItsChecksum() throws Exception {
    ParameterLayout layout = CheckpointFixtures.layout();
    INDArray params = CheckpointFixtures.randomFlat(layout, 1);
    try (AdamW full = CheckpointFixtures.steppedAdamW(layout, params, 2)) {
      CheckpointStore store = writeSharded(layout, params, full);
      Path dir = CheckpointFixtures.checkpointDir(root, 5);
      CheckpointFixtures.flipByte(dir.resolve(CheckpointFormat.optimizerSliceName(1, WORLD)), 3);
      CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
          () -> store.load(store.list().get(0), layout));
      assertTrue(e.getMessage().contains(CheckpointFormat.optimizerSliceName(1, WORLD))
          && e.getMessage().contains("fails its SHA-256 check"), e.getMessage());
      assertTrue(store.loadLatestValid(layout).isEmpty(), "the only checkpoint is corrupt: nothing loads");
    }
  }

  @Test
  void aMissingSliceIsDetected() throws Exception {
    ParameterLayout layout = CheckpointFixtures.layout();
    INDArray params = CheckpointFixtures.randomFlat(layout, 1);
    try (AdamW full = CheckpointFixtures.steppedAdamW(layout, params, 2)) {
      CheckpointStore store = writeSharded(layout, params, full);
      Path dir = CheckpointFixtures.checkpointDir(root, 5);
      Path slice = dir.resolve(CheckpointFormat.optimizerSliceName(2, WORLD));
      Files.delete(slice);
      CheckpointFixtures.dropHadoopCrc(slice);
      CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
          () -> store.load(store.list().get(0), layout));
      assertTrue(e.getMessage().contains(CheckpointFormat.optimizerSliceName(2, WORLD))
          && e.getMessage().contains("is missing"), e.getMessage());
    }
  }

  @Test
  void aManifestThatDropsASliceIsCorrupt() throws Exception {
    ParameterLayout layout = CheckpointFixtures.layout();
    INDArray params = CheckpointFixtures.randomFlat(layout, 1);
    try (AdamW full = CheckpointFixtures.steppedAdamW(layout, params, 2)) {
      CheckpointStore store = writeSharded(layout, params, full);
      Path dir = CheckpointFixtures.checkpointDir(root, 5);
      Path manifest = dir.resolve(CheckpointFormat.MANIFEST_FILE);
      var json = CheckpointFixtures.readJson(manifest);
      var files = json.withArray("files");
      for (int i = files.size() - 1; i >= 0; i--) {
        if (files.get(i).path("name").asText().equals(CheckpointFormat.optimizerSliceName(2, WORLD))) {
          files.remove(i);
        }
      }
      CheckpointFixtures.writeJson(manifest, json);
      CheckpointFixtures.dropHadoopCrc(manifest);
      CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
          () -> store.load(store.list().get(0), layout));
      assertTrue(e.getMessage().contains("optimizer slices"), e.getMessage());
    }
  }
}
