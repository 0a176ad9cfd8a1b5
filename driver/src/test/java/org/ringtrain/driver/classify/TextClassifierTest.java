// The text classifier as Spark ML users run it, in a real local[2] session with
// Kryo (registration required): Pipeline fit/transform/save/load, held-out
// accuracy on the shipped sentiment corpus for both encoders, data-parallel
// equivalence, resuming at another world size, explanations, word-vector
// initialisation, and bad input refused before anything is written. Test code only.
// Why over 300 lines: one local SparkSession (~10 s to start) serves every case of the estimator and its persistence.
package org.ringtrain.driver.classify;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.driver.train.DataParallelTrainer;
import org.ringtrain.ops.classify.ClassifierConfig;

@Timeout(value = 600, unit = TimeUnit.SECONDS)
class TextClassifierTest {
  private static SparkSession spark;
  private static Dataset<Row> corpus;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startSpark() {
    spark = SentimentFixtures.spark("TextClassifierTest");
    corpus = SentimentFixtures.corpus(spark).cache();
  }

  @AfterAll
  static void stopSpark() {
    if (spark != null) {
      spark.stop();
    }
  }

  private TextClassifier classifier(String arch, String dir) {
    return new TextClassifier().setArchitecture(arch).setD(32).setLayers(1).setHeads(2).setMaxLen(24)
        .setMinCount(2).setVocabSize(3000).setEpochs(6).setBatchSize(32).setLr(3e-3).setWorldSize(2).setSeed(7)
        .setCheckpointDir(tmp.resolve(dir).toString());
  }

  private Pipeline pipeline(TextClassifier classifier) {
    return TextPipeline.of("text", classifier);
  }

  /** Rows that keep at least one token after stop-word removal (the classifier refuses empty ones). */
  private static Dataset<Row> nonEmpty(Dataset<Row> data) {
    return tokenized(data).filter(org.apache.spark.sql.functions.size(col(TextPipeline.TOKENS)).gt(0))
        .select("text", "label", "source");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"transformer", "lstm"})
  void bothEncodersBeatTheMajorityBaselineOnHeldOutSentences(String arch) {
    Dataset<Row>[] split = nonEmpty(corpus).randomSplit(new double[] {0.8, 0.2}, 11);
    Dataset<Row> train = split[0].cache();
    Dataset<Row> test = split[1].cache();
    PipelineModel model = pipeline(classifier(arch, arch)).fit(train);
    Dataset<Row> predicted = model.transform(test).cache();

    ClassifierEvaluation m = ClassifierEvaluation.of(predicted, "label", 2);
    double accuracy = new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predicted);
    assertEquals(accuracy, m.accuracy(), 1e-12);
    double auc = new BinaryClassificationEvaluator().setRawPredictionCol("probability").evaluate(predicted);
    assertEquals(auc, m.auc(), 1e-12);
    long positives = test.filter(col("label").equalTo(1)).count();
    double majority = Math.max(positives, test.count() - positives) / (double) test.count();
    assertEquals(majority, m.majority(), 1e-12);
    assertEquals(test.count(), m.rows());
    assertEquals(Math.round(accuracy * m.rows()), m.confusion()[0][0] + m.confusion()[1][1]);
    System.out.println(arch + " on " + test.count() + " held-out sentences:\n" + m.format());
    assertTrue(accuracy >= 0.72, arch + ": held-out accuracy " + accuracy + " (majority " + majority + ")");
    assertTrue(accuracy > majority + 0.15, arch + ": accuracy " + accuracy + " vs majority " + majority);
    assertTrue(auc > 0.8, arch + ": area under ROC " + auc);
  }

  @Test
  void aPipelineSavesAndLoadsWithIdenticalPredictions() throws IOException {
    Dataset<Row> data = nonEmpty(corpus).limit(640).cache();
    PipelineModel model = pipeline(classifier("transformer", "saved").setEpochs(1)).fit(data);
    Dataset<Row> before = model.transform(data).select("text", "prediction", "probability");
    String path = tmp.resolve("pipeline").toString();
    model.write().save(path);
    PipelineModel loaded = PipelineModel.load(path);
    Dataset<Row> after = loaded.transform(data).select("text", "prediction", "probability");
    List<Row> a = before.collectAsList();
    List<Row> b = after.collectAsList();
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i).getString(0), b.get(i).getString(0));
      assertEquals(a.get(i).getDouble(1), b.get(i).getDouble(1), "prediction of row " + i);
      assertArrayEquals(((Vector) a.get(i).get(2)).toArray(), ((Vector) b.get(i).get(2)).toArray(), 0.0,
          "probabilities of row " + i + " must be bitwise equal after save/load");
    }
    TextClassifier unfitted = classifier("lstm", "unused").setEpochs(3);
    unfitted.write().save(tmp.resolve("estimator").toString());
    TextClassifier back = TextClassifier.load(tmp.resolve("estimator").toString());
    assertEquals(unfitted.uid(), back.uid());
    assertEquals(unfitted.extractParamMap().toString(), back.extractParamMap().toString(),
        "an unfitted estimator saves and loads with every param");
    TextClassificationModel stage = (TextClassificationModel) loaded.stages()[2];
    assertEquals("transformer", stage.architecture());
    assertEquals(2, stage.numClasses());
  }

  @Test
  void theSameRowsGiveTheSameVocabularyHoweverTheyArePartitioned() {
    Dataset<Row> tokens = tokenized(nonEmpty(corpus));
    Vocabulary one = Vocabulary.fit(tokens.repartition(1), TextPipeline.TOKENS, 2, 500);
    Vocabulary three = Vocabulary.fit(tokens.repartition(3), TextPipeline.TOKENS, 2, 500);
    assertEquals(one.sha256(), three.sha256());
    assertEquals(500, one.size());
  }

  @Test
  void aResumedFitContinuesFromTheCheckpointAndRefusesAnotherVocabulary() throws IOException {
    Dataset<Row> data = tokenized(nonEmpty(corpus).limit(320)).cache();
    String dir = tmp.resolve("resumed").toString();
    TextClassifier first = new TextClassifier().setArchitecture("lstm").setD(8).setLayers(1).setMaxLen(8)
        .setEpochs(1).setBatchSize(16).setWorldSize(2).setCheckpointDir(dir);
    first.fit(data); // 320 rows / 2 ranks / 16 = 10 steps
    IllegalArgumentException fresh = assertThrows(IllegalArgumentException.class, () -> first.fit(data));
    assertTrue(fresh.getMessage().contains("pass --resume"), fresh.getMessage());
    first.copy(org.apache.spark.ml.param.ParamMap.empty()).setEpochs(2).setResume(true).fit(data);
    List<String> resumes = Files.readAllLines(tmp.resolve("resumed/metrics.jsonl")).stream()
        .filter(l -> l.contains("\"event\":\"resume\"")).toList();
    assertEquals(2, resumes.size(), resumes.toString());
    assertTrue(resumes.get(1).contains("\"step\":10"), "the second fit resumes at step 10: " + resumes.get(1));
    IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
        () -> first.copy(org.apache.spark.ml.param.ParamMap.empty()).setEpochs(3).setResume(true)
            .fit(tokenized(nonEmpty(corpus).limit(100))));
    assertTrue(other.getMessage().contains("cannot resume") && other.getMessage().contains("vocabulary:"),
        other.getMessage());
  }

  @Test
  void earlyStoppingEndsTheFitWhenValidationStopsImprovingAndKeepsTheBestWeights() throws IOException {
    Dataset<Row> data = tokenized(nonEmpty(corpus).limit(400)).cache();
    String dir = tmp.resolve("early").toString();
    TextClassifier c = new TextClassifier().setArchitecture("lstm").setD(8).setLayers(1).setMaxLen(12)
        .setMinCount(1).setEpochs(40).setBatchSize(16).setLr(0.05).setWorldSize(2).setDropout(0.1)
        .setValidationFraction(0.25).setEarlyStoppingPatience(1).setCheckpointDir(dir);
    TextClassificationModel model = c.fit(data);
    List<String> log = Files.readAllLines(tmp.resolve("early/metrics.jsonl"));
    List<String> early = log.stream().filter(l -> l.contains("\"event\":\"early_stopping\"")).toList();
    assertEquals(1, early.size(), "one early-stopping event: " + early);
    assertTrue(early.get(0).contains("\"stopped\":true"), "40 epochs at lr 0.05 overfit 300 rows: " + early);
    long stoppedAt = Long.parseLong(early.get(0).replaceAll(".*\"step\":(\\d+).*", "$1"));
    long bestStep = Long.parseLong(early.get(0).replaceAll(".*\"best_step\":(\\d+).*", "$1"));
    assertTrue(bestStep < stoppedAt, early.get(0));
    assertTrue(log.stream().anyMatch(l -> l.contains("\"event\":\"done\"") && l.contains("\"step\":" + stoppedAt)),
        "the run ends at the step it stopped");
    double best = Double.parseDouble(early.get(0).replaceAll(".*\"best_val_loss\":([0-9.eE+-]+).*", "$1"));
    double lowest = log.stream().filter(l -> l.contains("\"event\":\"eval\""))
        .mapToDouble(l -> Double.parseDouble(l.replaceAll(".*\"val_loss\":([0-9.eE+-]+).*", "$1"))).min()
        .orElseThrow();
    assertEquals(lowest, best, 1e-9, "the weights kept are those of the lowest validation loss");
    assertEquals(2, model.numClasses());
    assertThrows(IllegalArgumentException.class, () -> c.copy(org.apache.spark.ml.param.ParamMap.empty())
        .setValidationFraction(0).fit(data), "patience without held-out rows is refused");
  }

  private static Dataset<Row> tokenized(Dataset<Row> data) {
    return new Pipeline().setStages(new PipelineStage[] {TextPipeline.tokenizer("text"),
        TextPipeline.stopWords("text")}).fit(data).transform(data);
  }

  @Test
  void aModelWithAnotherVocabularyFileIsRefusedOnLoad() throws IOException {
    Dataset<Row> data = SentimentFixtures.tokenRows(spark, List.of(SentimentFixtures.row(0, "bad", "awful"),
        SentimentFixtures.row(1, "good", "great"), SentimentFixtures.row(0, "bad"), SentimentFixtures.row(1, "good")));
    TextClassificationModel model = new TextClassifier().setD(8).setHeads(2).setLayers(1).setMaxLen(4)
        .setMinCount(1).setEpochs(1).setBatchSize(2).setWorldSize(1)
        .setCheckpointDir(tmp.resolve("vocab-run").toString()).fit(data);
    String path = tmp.resolve("model").toString();
    model.write().save(path);
    Vocabulary.of(List.of("good", "bad", "great", "awful")).save(
        new org.apache.hadoop.fs.Path(path, "data/vocabulary.json"), new org.apache.hadoop.conf.Configuration());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TextClassificationModel.load(path));
    assertTrue(e.getMessage().contains("is not the one this model was trained with"), e.getMessage());
  }

  @Test
  void explanationsSayWhichTokensMovedThePrediction() {
    Dataset<Row> data = nonEmpty(corpus).limit(640).cache();
    PipelineModel pipelineModel = pipeline(classifier("lstm", "explain").setEpochs(2)).fit(data);
    TextClassificationModel model = ((TextClassificationModel) pipelineModel.stages()[2])
        .setExplanationCol("why").setExplainTopK(2);
    List<String> tokens = List.of("great", "food", "terrible", "service");
    Explanation e = model.explain(tokens);
    double[] p = model.predictProbabilities(tokens);
    assertEquals(p[e.prediction()], e.probability(), 1e-6);
    assertEquals(tokens.size(), e.tokens().size());
    for (TokenWeight w : e.tokens()) {
      List<String> without = new ArrayList<>(tokens);
      without.remove(w.position());
      double q = model.predictProbabilities(without)[e.prediction()];
      double expected = Math.log(p[e.prediction()] / (1 - p[e.prediction()])) - Math.log(q / (1 - q));
      assertEquals(expected, w.weight(), 1e-3, "occlusion weight (log-odds) of " + w);
    }
    Row row = model.transform(SentimentFixtures.tokenRows(spark, List.of(
        SentimentFixtures.row(1, tokens.toArray(new String[0]))))).select("prediction", "why").first();
    assertEquals(e.prediction(), row.getDouble(0));
    List<Row> why = row.getList(1);
    List<String> expectedTokens = new ArrayList<>();
    e.towards(2).forEach(t -> expectedTokens.add(t.token()));
    e.away(2).forEach(t -> expectedTokens.add(t.token()));
    assertEquals(expectedTokens, why.stream().map(r -> r.getString(0)).toList());

    Explanation lime = model.explain(tokens, ExplanationMethod.lime(64, 5));
    List<Row> limeWhy = model.setExplainMethod("lime").setExplainSamples(64).setExplainSeed(5)
        .transform(SentimentFixtures.tokenRows(spark, List.of(SentimentFixtures.row(1, tokens.toArray(new String[0])))))
        .select("why").first().getList(0);
    List<Row> expectedLime = new ArrayList<>();
    lime.towards(2).forEach(t -> expectedLime.add(org.apache.spark.sql.RowFactory.create(t.token(), t.weight())));
    lime.away(2).forEach(t -> expectedLime.add(org.apache.spark.sql.RowFactory.create(t.token(), t.weight())));
    assertEquals(expectedLime, limeWhy, "the executors' LIME column is the driver's explain at the same seed");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"transformer", "lstm"})
  void twoRanksWithBatchBMatchOneRankWithBatch2B(String arch) throws IOException {
    // The data order is global: at step k both runs use rows 4k..4k+3 of the one order, rank r of the
    // 2-rank run rows {4k + 2r, 4k + 2r + 1}.
    List<int[]> ordered = encodedRows();
    ClassifierRecipe recipe = recipe(arch);
    float[] two = train(recipe, ordered, 2, 2, "dp2-" + arch);
    float[] one = train(recipe, ordered, 1, 4, "dp1-" + arch);
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < one.length; i++) {
      diff += (two[i] - one[i]) * (double) (two[i] - one[i]);
      norm += one[i] * (double) one[i];
    }
    double rel = Math.sqrt(diff / norm);
    assertTrue(rel < 1e-5, arch + ": ||two - one|| / ||one|| = " + rel + " after 5 steps");
  }

  /** 24 encoded rows of lengths 1..6 (maxLen 6), each with its label last. */
  private static List<int[]> encodedRows() {
    int maxLen = 6;
    List<int[]> rows = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      int[] row = new int[maxLen + 1];
      int len = 1 + i % maxLen;
      for (int t = 0; t < len; t++) {
        row[t] = 2 + (i * 5 + t * 3) % 18;
      }
      row[maxLen] = i % 3 == 0 ? 1 : 0;
      rows.add(row);
    }
    return rows;
  }

  private static ClassifierRecipe recipe(String arch) {
    return new ClassifierRecipe(new ClassifierConfig(ClassifierConfig.Architecture.parse(arch), 20, 6, 8, 2, 2, 2),
        null, "{}");
  }

  private float[] train(ClassifierRecipe recipe, List<int[]> rows, int ranks, int batch, String name)
      throws IOException {
    TrainConfig cfg = config(name, ranks, batch, 5, 5, false, false);
    fit(cfg, recipe, rows, ranks);
    try (Checkpoint ck = new CheckpointStore(HadoopSettings.defaults(), cfg.loop().checkpoints().checkpointDir(), 3)
        .loadLatestValid(recipe.layout()).orElseThrow()) {
      return ck.params().toFloatVector();
    }
  }

  private TrainConfig config(String name, int ranks, int batch, int steps, int checkpointEvery, boolean shuffle,
      boolean resume) {
    return config(name, ranks, batch, steps, checkpointEvery, shuffle, resume, 0);
  }

  private TrainConfig config(String name, int ranks, int batch, int steps, int checkpointEvery, boolean shuffle,
      boolean resume, int groupByLength) {
    return TrainConfig.fromLayers(Map.of("input", "test rows", "checkpointDir",
        tmp.resolve(name).toString(), "worldSize", ranks, "microBatch", batch, "steps", steps, "shuffle", shuffle,
        "learningRate", 1e-2, "minLearningRate", 1e-3, "warmupSteps", 1, "evalEvery", 0),
        Map.of("checkpointEvery", checkpointEvery, "ringTimeoutSeconds", 60, "resume", resume,
            "groupByLength", groupByLength));
  }

  /** Fits and returns the step events by step (1-based). */
  private Map<Long, MetricsEvent> fit(TrainConfig cfg, ClassifierRecipe recipe, List<int[]> rows, int ranks)
      throws IOException {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<MetricsEvent> events = new CopyOnWriteArrayList<>();
    new DataParallelTrainer(cfg.loop()).withMetricsSink(events::add)
        .fit(sc, recipe, sc.parallelize(rows, ranks), sc.parallelize(List.of(), ranks), "test");
    Map<Long, MetricsEvent> steps = new HashMap<>();
    events.stream().filter(e -> e.event().equals("step")).forEach(e -> steps.put((long) e.number("step"), e));
    return steps;
  }

  /**
   * The classifier's data order is the trainer's global one (a seeded permutation of all rows per
   * epoch, each step a global batch of 4; with length grouping, chunks of 2 global batches sorted by
   * row length and the batches shuffled): a run stopped after step 3 on 2 ranks and resumed on 1,
   * or on 1 and resumed on 2, uses at steps 4 to 8 (across the epoch's end at step 6) exactly the
   * rows of the uninterrupted run at the new world size, with its losses within 1e-5.
   */
  @ParameterizedTest(name = "groupByLength={0}")
  @ValueSource(ints = {0, 2})
  void aRunStoppedOnNRanksResumesOnMRanksWithTheRowsAndLossesOfAnUninterruptedRun(int grouping) throws IOException {
    ClassifierRecipe recipe = recipe("transformer");
    List<int[]> rows = encodedRows();
    Map<Integer, Map<Long, MetricsEvent>> straight = new HashMap<>();
    for (int ranks : new int[] {1, 2}) {
      straight.put(ranks, fit(config("straight-" + grouping + "-" + ranks, ranks, 4 / ranks, 8, 3, true, false,
          grouping), recipe, rows, ranks));
    }
    for (int[] fromTo : new int[][] {{2, 1}, {1, 2}}) {
      String name = "resumed-" + grouping + "-" + fromTo[0] + "-" + fromTo[1];
      Path source = tmp.resolve("straight-" + grouping + "-" + fromTo[0]).resolve("step-000000003");
      Path target = Files.createDirectories(tmp.resolve(name).resolve(source.getFileName()));
      try (var files = Files.list(source)) {
        for (Path f : files.toList()) {
          Files.copy(f, target.resolve(f.getFileName()));
        }
      }
      int to = fromTo[1];
      Map<Long, MetricsEvent> resumed = fit(config(name, to, 4 / to, 8, 3, true, true, grouping), recipe, rows, to);
      assertFalse(resumed.containsKey(3L), name + " starts after the step-3 checkpoint");
      for (long step = 4; step <= 8; step++) {
        MetricsEvent want = straight.get(to).get(step);
        MetricsEvent got = resumed.get(step);
        assertEquals(want.fields().get("samples_hash"), got.fields().get("samples_hash"), name + ": rows of step " + step);
        assertEquals(want.number("loss"), got.number("loss"), 1e-5, name + ": loss of step " + step);
        assertEquals(want.number("positions"), got.number("positions"), name + ": positions of step " + step);
      }
    }
  }

  @Test
  void wordVectorsInitialiseTheEmbeddingRowsTheyCover() throws IOException {
    Path glove = tmp.resolve("vectors.txt");
    Files.writeString(glove, "good 0.5 -0.25 1 2\nunknownword 9 9 9 9\nbad -1 0.125 0 3\n");
    Vocabulary vocab = Vocabulary.of(List.of("good", "bad", "meh"));
    WordVectors v = WordVectors.read(new org.apache.hadoop.fs.Path(glove.toUri()),
        new org.apache.hadoop.conf.Configuration(), vocab, 4);
    assertEquals(2, v.hits());
    ClassifierConfig spec = new ClassifierConfig(ClassifierConfig.Architecture.LSTM, vocab.size(), 4, 4, 1, 1, 2);
    try (var plain = new ClassifierRecipe(spec, null, "{}").create(3, 2);
         var init = new ClassifierRecipe(spec, v, "{}").create(3, 2)) {
      INDArray e0 = plain.model().params().view("embed.weight");
      INDArray e1 = init.model().params().view("embed.weight");
      assertArrayEquals(new float[] {0.5f, -0.25f, 1, 2}, e1.getRow(vocab.id("good")).toFloatVector());
      assertArrayEquals(new float[] {-1, 0.125f, 0, 3}, e1.getRow(vocab.id("bad")).toFloatVector());
      assertArrayEquals(e0.getRow(vocab.id("meh")).toFloatVector(), e1.getRow(vocab.id("meh")).toFloatVector(),
          "a token the file lacks keeps its seeded initialisation");
    }
    IllegalArgumentException wrongDim = assertThrows(IllegalArgumentException.class, () -> WordVectors.read(
        new org.apache.hadoop.fs.Path(glove.toUri()), new org.apache.hadoop.conf.Configuration(), vocab, 8));
    assertTrue(wrongDim.getMessage().contains("has 4 numbers, but the model's d is 8"), wrongDim.getMessage());
  }

  @Test
  void badInputIsRefusedBeforeAnythingIsWritten() {
    Path dir = tmp.resolve("never");
    TextClassifier c = new TextClassifier().setWorldSize(1).setBatchSize(1).setMinCount(1)
        .setCheckpointDir(dir.toString());
    Row good = SentimentFixtures.row(1, "fine");
    assertRefused(c.setNumClasses(0), List.of(good, SentimentFixtures.row(0, (String[]) null)), "null tokens");
    assertRefused(c, List.of(good, SentimentFixtures.row(0)), "have an empty tokens");
    assertRefused(c, List.of(good, SentimentFixtures.row(0.5, "half")), "non-integral label");
    assertRefused(c, List.of(good, SentimentFixtures.row(-1, "minus")), "negative values");
    assertRefused(c.copy(org.apache.spark.ml.param.ParamMap.empty()).setNumClasses(2),
        List.of(good, SentimentFixtures.row(2, "two")), "numClasses is 2");
    assertRefused(c, List.of(good, SentimentFixtures.row(1, "same")), "only one class");
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> c.copy(org.apache.spark.ml.param.ParamMap.empty()).setInputCol("words")
            .fit(SentimentFixtures.tokenRows(spark, List.of(good))));
    assertTrue(missing.getMessage().contains("column 'words' does not exist"), missing.getMessage());
    IllegalArgumentException text = assertThrows(IllegalArgumentException.class,
        () -> c.copy(org.apache.spark.ml.param.ParamMap.empty()).setInputCol("text").fit(corpus));
    assertTrue(text.getMessage().contains("must be array<string>"), text.getMessage());
    assertFalse(Files.exists(dir), "a refused fit writes nothing");
  }

  private void assertRefused(TextClassifier c, List<Row> rows, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> c.fit(SentimentFixtures.tokenRows(spark, rows)));
    assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
  }
}
