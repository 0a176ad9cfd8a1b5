// What TextClassifier.fit does, apart from Spark ML's param plumbing: check every
// row, hold out validation rows (for early stopping), build the vocabulary (or take
// a GPT backbone's tokenizer), read word vectors, deal encoded rows to the ranks, train through DataParallelTrainer
// and read this run's final weights back. Nothing is written (not even a temporary
// checkpoint directory) until every check passed.
package org.ringtrain.driver.classify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.storage.StorageLevel;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.config.FlatSettings;
import org.ringtrain.driver.data.RankRows;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.MetricsSink;
import org.ringtrain.driver.train.DataParallelTrainer;
import org.ringtrain.driver.train.LoopConfig;
import org.ringtrain.driver.train.TrainingResult;
import org.ringtrain.ops.classify.ClassifierConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One fit of a text classifier; see {@link TextClassifier} for the params. */
final class ClassifierTraining {

  /**
   * Global batches per length-sorted chunk when groupByLength is on: 8 x 64 rows at the defaults, about
   * a fifth of an epoch of the shipped corpus, so batches still mix across the epoch (torchtext's
   * BucketIterator sorts pools of 100 batches, Hugging Face's group_by_length megabatches of 50).
   */
  static final int LENGTH_GROUP_BATCHES = 8;

  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final Logger LOG = LoggerFactory.getLogger(ClassifierTraining.class);

  /**
   * The resolved params of one fit.
   *
   * @param checkpointDir   empty = a temporary local directory, deleted after the fit
   * @param wordVectorsPath empty = none
   * @param numClasses      0 = max label + 1
   * @param dropout         training drop probability, 0 = none
   * @param validationFraction share of the rows held out for validation, 0 = none
   * @param earlyStoppingPatience validation passes without improvement before stopping, 0 = off
   * @param groupByLength   length-grouped batches ({@link #LENGTH_GROUP_BATCHES} global batches per sorted chunk)
   * @param backbone        the GPT that starts the encoder (its shape already in d, layers, heads and
   *                        maxLen), or null for the seeded start
   */
  record Settings(String tokensCol, String labelCol, String architecture, int d, int layers, int heads, int maxLen,
      int vocabSize, int minCount, int numClasses, int epochs, int batchSize, double lr, double weightDecay,
      int worldSize, long seed, String checkpointDir, String wordVectorsPath, boolean resume, double dropout,
      double validationFraction, int earlyStoppingPatience, boolean groupByLength,
      Backbone backbone) {
  }

  /** The rows trained on and the rows held out for validation (empty when validationFraction is 0). */
  private record Split(Dataset<?> train, long trainRows, Dataset<?> validation, long validationRows) {
  }

  private ClassifierTraining() {
  }

  /** Trains on {@code data} and returns the fitted model (its params are the caller's to copy). */
  static TextClassificationModel fit(String uid, Settings s, Dataset<?> data, MetricsSink sink) {
    TrainingRows.Summary summary = TrainingRows.check(data, s.tokensCol(), s.labelCol(), s.numClasses());
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
    boolean temporary = s.checkpointDir().isBlank();
    if (temporary && !sc.isLocal()) {
      throw new IllegalArgumentException("checkpointDir is empty, but master " + sc.master() + " runs executors in"
          + " other JVMs, which cannot see a local temporary directory; setCheckpointDir(\"hdfs:///...\") or another"
          + " filesystem every executor sees");
    }
    Split split = split(data, summary.rows(), s);
    long perRank = split.trainRows() / s.worldSize();
    if (perRank < s.batchSize()) {
      throw new IllegalArgumentException(split.trainRows() + " training rows on " + s.worldSize() + " ranks are "
          + perRank + " per rank, fewer than batchSize=" + s.batchSize() + "; lower batchSize or worldSize");
    }
    Backbone backbone = s.backbone();
    Vocabulary vocab = backbone != null ? Vocabulary.forTokenizer(backbone.tokenizerId())
        : Vocabulary.fit(split.train(), s.tokensCol(), s.minCount(), s.vocabSize());
    ClassifierConfig.Architecture arch = ClassifierConfig.Architecture.parse(s.architecture());
    ClassifierConfig spec = backbone != null ? backbone.classifierConfig(s.maxLen(), summary.numClasses())
        : new ClassifierConfig(arch, vocab.size(), s.maxLen(), s.d(), s.layers(),
            arch == ClassifierConfig.Architecture.LSTM ? 1 : s.heads(), summary.numClasses());
    WordVectors vectors = readWordVectors(sc, s, vocab);
    long steps = Math.max(2, (long) Math.ceil((double) s.epochs() * perRank / s.batchSize()));
    String dir = temporary ? temporaryDirectory() : s.checkpointDir();
    LoopConfig cfg = loopConfig(s, dir, steps, perRank, split.validationRows());
    LOG.info("text classifier {}: {} rows ({} held out for validation), {} classes, vocabulary {}, {} epochs = {}"
        + " steps on {} ranks{}", uid, split.trainRows(), split.validationRows(), summary.numClasses(), vocab,
        s.epochs(), steps, s.worldSize(), backbone == null ? "" : ", started from " + backbone);

    Broadcast<Vocabulary> shared = sc.broadcast(vocab);
    Broadcast<Backbone> pretrained = backbone == null ? null : sc.broadcast(backbone);
    // Dealing rows to ranks reads them more than once (indexing, sampling, the shuffle): encode once.
    JavaRDD<int[]> encoded = TrainingRows.encode(split.train(), s.tokensCol(), s.labelCol(), shared, spec.maxLen())
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      JavaRDD<int[]> rows = RankRows.shuffledEvenly(encoded, split.trainRows(), s.worldSize(), s.seed());
      JavaRDD<int[]> held = split.validationRows() == 0 ? sc.parallelize(List.<int[]>of(), s.worldSize())
          : RankRows.shuffledEvenly(TrainingRows.encode(split.validation(), s.tokensCol(), s.labelCol(), shared,
              spec.maxLen()), split.validationRows(), s.worldSize(), s.seed());
      ClassifierRecipe recipe = new ClassifierRecipe(spec, vectors, pretrained, runConfigJson(spec, cfg, backbone),
          s.dropout());
      DataParallelTrainer trainer = new DataParallelTrainer(cfg);
      if (sink != null) {
        trainer = trainer.withMetricsSink(sink);
      }
      TrainingResult result = trainer.fit(sc, recipe, rows, held, "vocabulary:" + vocab.sha256());
      float[] weights = finalWeights(sc, result, recipe);
      if (temporary) {
        deleteQuietly(sc, dir); // the weights are in the model now; a temporary directory is not kept
      }
      return new TextClassificationModel(uid, spec, vocab, weights, result.finalLoss());
    } catch (IOException e) {
      throw new UncheckedIOException("training the text classifier failed: " + e.getMessage(), e);
    } finally {
      encoded.unpersist(false);
      shared.destroy();
      if (pretrained != null) {
        pretrained.destroy();
      }
      if (split.validation() != null) {
        split.train().unpersist(false);
        split.validation().unpersist(false);
      }
    }
  }

  /**
   * Holds out {@code validationFraction} of the rows (a seeded random split), refusing a split that
   * leaves a rank without validation rows.
   */
  private static Split split(Dataset<?> data, long rows, Settings s) {
    if (s.validationFraction() == 0) {
      return new Split(data, rows, null, 0);
    }
    Dataset<?>[] parts = data.randomSplit(new double[] {1 - s.validationFraction(), s.validationFraction()},
        s.seed());
    Dataset<?> train = parts[0].cache();
    Dataset<?> held = parts[1].cache();
    long heldRows = held.count();
    if (heldRows < s.worldSize()) {
      throw new IllegalArgumentException("validationFraction=" + s.validationFraction() + " of " + rows + " rows"
          + " holds out " + heldRows + ", fewer than one per rank (worldSize=" + s.worldSize() + "); raise"
          + " validationFraction or give more rows");
    }
    return new Split(train, train.count(), held, heldRows);
  }

  /** The loop settings of a classifier fit: the params' choices on top of the loop's defaults. */
  private static LoopConfig loopConfig(Settings s, String dir, long steps, long perRank, long validationRows) {
    Map<String, Object> m = new LinkedHashMap<>(LoopConfig.defaults());
    m.put("checkpointDir", dir);
    m.put("worldSize", s.worldSize());
    m.put("microBatch", s.batchSize());
    m.put("steps", steps);
    m.put("learningRate", s.lr());
    m.put("minLearningRate", s.lr() / 10);
    m.put("warmupSteps", Math.min(steps - 1, Math.max(1, steps / 20)));
    m.put("weightDecay", s.weightDecay());
    m.put("seed", s.seed());
    m.put("groupByLength", s.groupByLength() ? LENGTH_GROUP_BATCHES : 0);
    // With held-out rows, validate twice per epoch, each pass over every validation row once.
    long stepsPerEpoch = Math.max(1, perRank / s.batchSize());
    m.put("evalEvery", validationRows == 0 ? 0 : Math.max(1, stepsPerEpoch / 2));
    m.put("evalBatches", Math.max(1, (int) Math.ceil((double) (validationRows / s.worldSize()) / s.batchSize())));
    m.put("earlyStoppingPatience", s.earlyStoppingPatience());
    m.put("checkReplicasEvery", 0);
    m.put("checkpointEvery", Math.max(1, steps / 4));
    m.put("keepCheckpoints", 2);
    m.put("resume", s.resume());
    return FlatSettings.read(LoopConfig.class, m, "classifier training config");
  }

  /** What a classifier checkpoint records of its run: the model's shape, its backbone and the loop's settings. */
  private static String runConfigJson(ClassifierConfig config, LoopConfig loop, Backbone backbone) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("classifier", config);
    if (backbone != null) {
      m.put("backbone", backbone.source());
    }
    m.put("loop", FlatSettings.write(loop));
    try {
      return JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the classifier's run config", e);
    }
  }

  private static String temporaryDirectory() {
    try {
      return Files.createTempDirectory("ringtrain-classifier-").toUri().toString();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary checkpoint directory; setCheckpointDir(...)", e);
    }
  }

  private static WordVectors readWordVectors(JavaSparkContext sc, Settings s, Vocabulary vocab) {
    String path = s.wordVectorsPath();
    if (path.isBlank()) {
      return null;
    }
    try {
      WordVectors v = WordVectors.read(new Path(path), sc.hadoopConfiguration(), vocab, s.d());
      LOG.info("word vectors from {} cover {} of {} vocabulary tokens", path, v.hits(), vocab.size() - 2);
      return v;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read word vectors " + path + ": " + e.getMessage(), e);
    }
  }

  /** The weights of exactly this run's final checkpoint (not the newest one in the directory). */
  private static float[] finalWeights(JavaSparkContext sc, TrainingResult result, ClassifierRecipe recipe)
      throws IOException {
    try (Checkpoint ck = result.loadFinalCheckpoint(recipe.layout(), HadoopSettings.of(sc))) {
      return ck.params().toFloatVector();
    }
  }

  private static void deleteQuietly(JavaSparkContext sc, String dir) {
    try {
      Path p = new Path(dir);
      p.getFileSystem(sc.hadoopConfiguration()).delete(p, true);
    } catch (IOException e) {
      LOG.warn("could not delete the temporary checkpoint directory {}: {}", dir, e.getMessage());
    }
  }
}
