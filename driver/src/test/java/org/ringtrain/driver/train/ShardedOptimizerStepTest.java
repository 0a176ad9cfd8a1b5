/*
 * ShardedOptimizerStepTest: optimizerSharding against the unsharded loop in a real local[4]
 * SparkContext, every rank a barrier task over the real ring: parameters bitwise equal after 10
 * steps at 2, 3 and 4 ranks without clipping (with gradient accumulation at 3), within 1e-6 with
 * clipping active; a non-finite gradient skipped alike; the sharded checkpoint holds the unsharded run's optimizer state; and a
 * checkpoint written at N ranks (sharded or not) resumes at M ranks sharded exactly as the
 * unsharded M-rank run resumes from it. Test code only.
 */
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.optim.AdamW;

@Timeout(value = 600, unit = TimeUnit.SECONDS)
class ShardedOptimizerStepTest {
  /** About 400k parameters: two 1 MiB gradient buckets, so ranges are cut inside tensors. */
  private static final ModelConfig MODEL = TinyRuns.model(128, 2);
  private static JavaSparkContext sc;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startSpark() {
    sc = LocalSpark.start("local[4]", "ShardedOptimizerStepTest");
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  private LoopConfig config(String name, int world, long steps, boolean sharding, Object... more) {
    Map<String, Object> m = new LinkedHashMap<>(Map.of("checkpointDir", tmp.resolve(name).toString(), "worldSize",
        world, "microBatch", 2, "steps", steps, "warmupSteps", 0, "evalEvery", 0, "evalBatches", 1,
        "checkpointEvery", 100, "checkReplicasEvery", 1, "gradClip", 0.0));
    m.put("optimizerSharding", sharding);
    return TinyRuns.config(m, more);
  }

  private static JavaRDD<int[]> rows(int count, int partitions) {
    return TinyRuns.rows(sc, 0, count, partitions, 0);
  }

  private static TrainingResult fit(LoopConfig cfg, List<MetricsEvent> events) throws Exception {
    int world = cfg.worldSize();
    return new DataParallelTrainer(cfg).withMetricsSink(events::add).fit(sc, new PoisonedGradientsRecipe(MODEL),
        rows(16 * world, world), rows(2 * world, world), "byte");
  }

  private static TrainingResult fit(LoopConfig cfg) throws Exception {
    return fit(cfg, new java.util.concurrent.CopyOnWriteArrayList<>());
  }

  private static Checkpoint finalCheckpoint(LoopConfig cfg, TrainingResult result) throws IOException {
    return new CheckpointStore(HadoopSettings.defaults(), cfg.checkpoints().checkpointDir(), 3)
        .load(result.finalCheckpoint(), GptModel.layout(MODEL));
  }

  private static int firstBitDifference(INDArray a, INDArray b) {
    float[] x = a.toFloatVector();
    float[] y = b.toFloatVector();
    for (int i = 0; i < x.length; i++) {
      if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
        return i;
      }
    }
    return x.length == y.length ? -1 : x.length;
  }

  @Test
  void shardedEqualsUnshardedBitwiseAtTwoThreeAndFourRanksWithoutClipping() throws Exception {
    for (int world : new int[] {2, 3, 4}) {
      Object[] accumulate = world == 3 ? new Object[] {"gradAccumSteps", 2} : new Object[0];
      LoopConfig plain = config("plain-" + world, world, 10, false, accumulate);
      LoopConfig sharded = config("sharded-" + world, world, 10, true, accumulate);
      TrainingResult a = fit(plain);
      TrainingResult b = fit(sharded);
      assertTrue(b.replicasIdentical(), "world " + world + ": sharded replicas differ");
      assertArrayEquals(a.ranks().get(0).paramHashes(), b.ranks().get(0).paramHashes(),
          "world " + world + ": parameter hashes after each of the 10 steps");
      try (Checkpoint x = finalCheckpoint(plain, a); Checkpoint y = finalCheckpoint(sharded, b);
          AdamW fromSlices = y.slices().assemble()) {
        assertEquals(-1, firstBitDifference(x.params(), y.params()), "world " + world + ": parameters");
        INDArray[] mx = ((AdamW) x.optimizer()).ownedMoments();
        INDArray[] my = fromSlices.ownedMoments();
        assertEquals(-1, firstBitDifference(mx[0], my[0]), "world " + world + ": m from the slices");
        assertEquals(-1, firstBitDifference(mx[1], my[1]), "world " + world + ": v from the slices");
        assertEquals(x.optimizer().stepCount(), fromSlices.stepCount());
      }
    }
  }

  @Test
  void shardedIsWithinOneInAMillionOfUnshardedWithClippingActive() throws Exception {
    for (int world : new int[] {2, 3, 4}) {
      LoopConfig plain = config("clip-plain-" + world, world, 10, false, "gradClip", 0.05);
      LoopConfig sharded = config("clip-sharded-" + world, world, 10, true, "gradClip", 0.05);
      List<MetricsEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
      TrainingResult a = fit(plain);
      TrainingResult b = fit(sharded, events);
      assertTrue(b.replicasIdentical(), "world " + world + ": sharded replicas differ");
      assertTrue(events.stream().filter(e -> e.event().equals("step")).allMatch(e -> e.number("grad_norm") > 0.05),
          "clipping must be active at every step: " + events);
      try (Checkpoint x = finalCheckpoint(plain, a); Checkpoint y = finalCheckpoint(sharded, b)) {
        float[] p = x.params().toFloatVector();
        float[] q = y.params().toFloatVector();
        double worst = 0;
        for (int i = 0; i < p.length; i++) {
          worst = Math.max(worst, Math.abs(p[i] - q[i]) / Math.max(Math.abs(p[i]), 1e-3));
        }
        assertTrue(worst <= 1e-6, "world " + world + ": largest relative difference " + worst);
      }
    }
  }

  @Test
  void aNonFiniteGradientIsSeenByEveryRankThroughTheShardedNormAndSkippedAlike() throws Exception {
    LoopConfig plain = config("skip-plain", 2, 5, false, "onNonFinite", "skip", "maxSkippedSteps", 1);
    LoopConfig sharded = config("skip-sharded", 2, 5, true, "onNonFinite", "skip", "maxSkippedSteps", 1);
    TrainingResult a = new DataParallelTrainer(plain).fit(sc, new PoisonedGradientsRecipe(MODEL, 2), rows(32, 2),
        rows(4, 2), "byte");
    TrainingResult b = new DataParallelTrainer(sharded).fit(sc, new PoisonedGradientsRecipe(MODEL, 2), rows(32, 2),
        rows(4, 2), "byte");
    assertEquals(1, b.ranks().get(0).skippedSteps());
    assertTrue(b.replicasIdentical());
    assertArrayEquals(a.ranks().get(0).paramHashes(), b.ranks().get(0).paramHashes());
  }

  /**
   * Writes a checkpoint at step 4 of {@code world} ranks ({@code more} overrides), then copies it
   * into two directories.
   */
  private String[] checkpointAt4(String name, int world, boolean sharding, Object... more) throws Exception {
    LoopConfig cfg = config(name, world, 4, sharding, more);
    fit(cfg);
    String[] copies = {name + "-resume-sharded", name + "-resume-plain"};
    for (String copy : copies) {
      Path from = tmp.resolve(name);
      Path to = tmp.resolve(copy);
      try (Stream<Path> files = Files.walk(from)) {
        for (Path f : files.toList()) {
          Files.copy(f, to.resolve(from.relativize(f).toString()));
        }
      }
    }
    return copies;
  }

  /** Resumes both copies at {@code world} ranks to step 7, sharded and not: the same parameters every step. */
  private void resumesAlike(String[] copies, int world) throws Exception {
    TrainingResult sharded = fit(config(copies[0], world, 7, true, "resume", true));
    TrainingResult plain = fit(config(copies[1], world, 7, false, "resume", true));
    assertEquals(4, sharded.ranks().get(0).firstStep(), "resumed from the step-4 checkpoint");
    assertArrayEquals(plain.ranks().get(0).paramHashes(), sharded.ranks().get(0).paramHashes(),
        "world " + world + ": parameter hashes of steps 5 to 7");
    assertTrue(sharded.replicasIdentical());
  }

  @Test
  void aShardedCheckpointResumesAtMoreAndFewerRanksAndAnUnshardedOneResumesSharded() throws Exception {
    // A resume keeps the global batch (worldSize x microBatch x gradAccumSteps of the writing run),
    // so it must be a multiple of the new worldSize x microBatch: 2 x 2 x 3 = 12 at 3 ranks, 2 x 2 x 2 =
    // 8 at 4 ranks.
    String[] fromSharded = checkpointAt4("written-sharded-2", 2, true, "gradAccumSteps", 3);
    resumesAlike(fromSharded, 3);
    String[] again = checkpointAt4("written-sharded-3", 3, true);
    resumesAlike(again, 1);
    String[] fromPlain = checkpointAt4("written-plain-2", 2, false, "gradAccumSteps", 2);
    resumesAlike(fromPlain, 4);
  }
}
