// Distillation end to end in a real local[2] SparkContext with Kryo: a tiny teacher trained by
// GptTrainer, then students distilled from its checkpoint through the barrier stage and the ring.
// alpha 0 is ordinary training bit for bit; 2 ranks x B equal 1 rank x 2B; the teacher changes the
// student; a teacher with another tokenizer, a shorter context or no checkpoint is refused
// before any Spark work.
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.driver.gpt.GptTrainerTest.sequences;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.train.LocalSpark;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GptDistillerTest {
  private static final int VOCAB = 256;
  private static final int T = 16;
  private static JavaSparkContext sc;
  private static Path root;
  private static String teacherDir;

  @BeforeAll
  static void trainTeacher() throws Exception {
    sc = LocalSpark.start("local[2]", "GptDistillerTest");
    root = Files.createTempDirectory("distill-test");
    teacherDir = root.resolve("teacher").toString();
    TrainConfig teacher = config(teacherDir, 2, 4, 4).with("dModel", 32).with("layers", 2);
    new GptTrainer(teacher).fit(sc, sc.parallelize(sequences(0, 32), 2), sc.parallelize(sequences(500, 4), 2),
        "byte", VOCAB);
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  /** A student half the teacher's width, one block; a fixed data order. */
  private static TrainConfig config(String checkpointDir, int world, int microBatch, long steps) {
    return TrainConfig.fromLayers(Map.of("input", "unused-by-fit", "checkpointDir", checkpointDir,
        "contextLength", T, "dModel", 16, "layers", 1, "heads", 2, "shuffle", false),
        Map.of("worldSize", world, "microBatch", microBatch, "steps", steps, "learningRate", 3e-3,
            "minLearningRate", 3e-4),
        Map.of("warmupSteps", 1, "evalEvery", 10, "evalBatches", 1, "checkpointEvery", 10, "checkReplicasEvery", 1,
            "bucketMb", 1, "ringTimeoutSeconds", 60));
  }


  private static DistillSettings distill(double alpha) {
    return new DistillSettings(teacherDir, alpha, 2.0);
  }

  private static float[] distilled(String name, int world, int microBatch, double alpha) throws Exception {
    TrainConfig cfg = config(root.resolve(name).toString(), world, microBatch, 4);
    TrainedGpt student = new GptDistiller(cfg, distill(alpha)).fit(sc, sc.parallelize(sequences(0, 32), world),
        sc.parallelize(sequences(500, 4), world), "byte", VOCAB);
    assertTrue(student.summary().replicasIdentical(), "every rank applies the same update");
    return student.weights();
  }

  @Test
  void alphaZeroIsOrdinaryTrainingBitForBitAndATeacherChangesTheStudent() throws Exception {
    TrainConfig cfg = config(root.resolve("plain").toString(), 2, 2, 4);
    float[] plain = new GptTrainer(cfg).fit(sc, sc.parallelize(sequences(0, 32), 2),
        sc.parallelize(sequences(500, 4), 2), "byte", VOCAB).weights();
    assertArrayEquals(plain, distilled("alpha0", 2, 2, 0.0), "alpha 0: the teacher's term is off");
    assertFalse(Arrays.equals(plain, distilled("alpha05", 2, 2, 0.5)), "alpha 0.5: the teacher reaches the ranks");
  }

  @Test
  void twoRanksWithBatchBMatchOneRankWithBatch2B() throws Exception {
    float[] a = distilled("dp2", 2, 2, 0.7);
    float[] b = distilled("dp1", 1, 4, 0.7);
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < a.length; i++) {
      diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
      norm += b[i] * (double) b[i];
    }
    double relative = Math.sqrt(diff / norm);
    assertTrue(relative < 1e-5, "parameters after 4 distilled steps differ by a relative " + relative);
  }

  @Test
  void aTeacherWithAnotherTokenizerIsRefusedBeforeSparkWork() throws Exception {
    HadoopSettings hadoop = HadoopSettings.of(sc);
    TrainConfig gpt2Student = config(root.resolve("s").toString(), 2, 2, 4).with("tokenizer", "gpt2");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GptDistiller.preflight(gpt2Student, distill(0.5), hadoop));
    assertTrue(e.getMessage().contains("uses tokenizer byte, but the student's is gpt2")
        && e.getMessage().contains("set tokenizer=byte for the student"), e.getMessage());

    TrainConfig longer = config(root.resolve("s").toString(), 2, 2, 4).with("contextLength", 2 * T);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> GptDistiller.preflight(longer, distill(0.5), hadoop))
        .getMessage().contains("use contextLength <= " + T));

    DistillSettings none = new DistillSettings(root.resolve("empty").toString(), 0.5, 2.0);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> GptDistiller.preflight(longer, none, hadoop))
        .getMessage().contains("holds no valid checkpoint; train the teacher first"));

    GptDistiller.TeacherCheck ok = GptDistiller.preflight(config(root.resolve("s").toString(), 2, 2, 4), distill(0.5),
        hadoop);
    assertEquals(4, ok.step());
    assertTrue(ok.parameterRatio() < 0.5, "the student is smaller: " + ok.parameterRatio());
  }
}
