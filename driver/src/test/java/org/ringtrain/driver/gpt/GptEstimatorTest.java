// GptEstimatorTest: GPT on DataFrames as a Spark user runs it, in one real local[2,4] SparkSession
// with Kryo (registration required): fit on a Parquet file the test writes, transform with scores
// and generation, save/load giving identical outputs, a row's perplexity equal to GptEvaluator's on
// the same text, and bad input refused before anything is written. One tiny fit serves the class.
// Test code only.
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.train.LocalSpark;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GptEstimatorTest {
  private static final int T = 16;
  private static final StructType SCHEMA = new StructType().add("text", DataTypes.StringType, true)
      .add("prompt", DataTypes.StringType, true);
  private static JavaSparkContext sc;
  private static SparkSession spark;
  private static GptTextModel model;
  private static Dataset<Row> table;

  @TempDir
  static Path dir;

  @BeforeAll
  static void fitOnAParquetFile() {
    sc = LocalSpark.start("local[2,4]", "GptEstimatorTest");
    spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
    List<Integer> lines = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      lines.add(i);
    }
    String parquet = dir.resolve("lines.parquet").toString();
    spark.createDataFrame(sc.parallelize(lines, 3).map(i -> RowFactory.create("Call me Ishmael, said line " + i
        + " of the sea.", i % 3 == 0 ? "Call me" : null)), SCHEMA).write().parquet(parquet);
    table = spark.read().parquet(parquet);
    model = new GptEstimator().setContextLength(T).setDModel(16).setLayers(1).setHeads(2).setWorldSize(2)
        .setMicroBatch(2).setSteps(4).setLearningRate(3e-3).setValidationFraction(0.1).setSeed(7)
        .setSettings("{\"warmupSteps\": 1, \"evalEvery\": 2, \"evalBatches\": 1, \"checkpointEvery\": 4,"
            + " \"checkReplicasEvery\": 2, \"ringTimeoutSeconds\": 60, \"bucketMb\": 1}")
        .setCheckpointDir(dir.resolve("run").toString()).fit(table);
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  @Test
  void theFittedModelScoresAndContinuesRowsAndReloadsToIdenticalOutputs() throws IOException {
    assertEquals(4, model.trained().step());
    assertTrue(Double.isFinite(model.trained().summary().finalLoss()));
    model.setPromptCol("prompt").setMaxTokens(5).setTemperature(0.8).setTopK(10);
    List<Row> before = model.transform(table).collectAsList();
    model.write().overwrite().save(dir.resolve("model").toString());
    GptTextModel loaded = GptTextModel.load(dir.resolve("model").toString());
    assertEquals("prompt", loaded.getOrDefault(loaded.promptCol()));
    List<Row> after = loaded.transform(table).collectAsList();
    assertEquals(before, after);
    Row first = before.get(0);
    double logLikelihood = first.getDouble(first.fieldIndex("logLikelihood"));
    double perplexity = first.getDouble(first.fieldIndex("perplexity"));
    assertTrue(logLikelihood < 0 && perplexity > 1 && perplexity < 256, first.toString());
    assertFalse(first.getString(first.fieldIndex("generated")).isEmpty(), first.toString());
    assertNull(before.get(1).get(before.get(1).fieldIndex("generated")), "no prompt, no continuation");
  }

  @Test
  void aRowsPerplexityEqualsEvaluateOnTheSameText() throws IOException {
    String text = "It is a way I have of driving off the spleen and regulating the circulation.".substring(0, 3 * T + 1);
    Path file = dir.resolve("row.txt");
    Files.writeString(file, text, StandardCharsets.UTF_8);
    TrainingData data = CorpusLoader.load(sc, new DatasetSpec(file.toUri().toString(), DatasetSpec.Format.TEXT,
        "byte", T, 0.0, 1));
    GptEvaluator.Evaluation expected = GptEvaluator.evaluate(sc, model.trained(), data.train(), 8);
    data.unpersist();
    Row row = model.setPromptCol("").transform(spark.createDataFrame(List.of(RowFactory.create(text, null)), SCHEMA))
        .first();
    assertEquals(3 * T, expected.tokens());
    double perplexity = row.getDouble(row.fieldIndex("perplexity"));
    assertEquals(expected.perplexity(), perplexity, 1e-5 * expected.perplexity());
    assertEquals(-expected.loss() * expected.tokens(), row.getDouble(row.fieldIndex("logLikelihood")),
        1e-5 * expected.loss() * expected.tokens());
  }

  @Test
  void theEstimatorSavesAndLoadsItsParams() throws IOException {
    GptEstimator estimator = new GptEstimator().setTextCol("body").setTokenizer("gpt2").setSteps(12)
        .setSettings("{\"warmupSteps\": 3}");
    estimator.write().save(dir.resolve("estimator").toString());
    GptEstimator loaded = GptEstimator.load(dir.resolve("estimator").toString());
    assertEquals(estimator.uid(), loaded.uid());
    assertEquals(estimator.trainConfig(), loaded.trainConfig());
    assertEquals(3, loaded.trainConfig().loop().optimizer().warmupSteps());
  }

  @Test
  void badInputIsRefusedBeforeAnythingIsWritten() {
    Path run = dir.resolve("refused");
    GptEstimator estimator = new GptEstimator().setContextLength(T).setDModel(16).setLayers(1).setHeads(2)
        .setSteps(40).setCheckpointDir(run.toString());
    Dataset<Row> withNull = spark.createDataFrame(List.of(RowFactory.create("some text", null),
        RowFactory.create(null, null)), SCHEMA);
    IllegalArgumentException nulls = assertThrows(IllegalArgumentException.class, () -> estimator.fit(withNull));
    assertTrue(nulls.getMessage().contains("null value(s)"), nulls.getMessage());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> estimator.setTextCol("body").fit(table));
    assertTrue(missing.getMessage().contains("no column 'body'"), missing.getMessage());
    Dataset<Row> numbers = spark.range(40).toDF("text");
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
        () -> estimator.setTextCol("text").fit(numbers));
    assertTrue(type.getMessage().contains("must hold text (string), but found bigint"), type.getMessage());
    IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
        () -> estimator.setHeads(3).fit(table));
    assertTrue(heads.getMessage().contains("heads"), heads.getMessage());
    assertFalse(Files.exists(run), "nothing may be written for refused input: " + run);
  }
}
