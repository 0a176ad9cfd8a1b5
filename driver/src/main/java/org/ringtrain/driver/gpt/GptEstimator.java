// GptEstimator: GPT training as a Spark ML Estimator over a string column of any Dataset<Row>
// (Parquet, JSON, CSV, a table). Its params are the GPT run config's settings (TrainConfig), the
// common ones as params of their own and any other through `settings`; fit() checks the column
// and every row (TableCorpus), then trains through the same GptTrainer / DataParallelTrainer path
// as the train job's text files, and returns the fitted GptTextModel. It does not tokenize on the
// driver and does not read files (TableInput and the train job do).
//
// Why over 300 lines: Spark ML wants every param as a field with its doc, default, getter and
// setter; they are the estimator's whole public surface and read best in one place.
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.ringtrain.driver.config.FlatSettings;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TableCorpus;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.MetricsSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a GPT on the text of one string column. The rows, in the Dataset's order and each
 * followed by a line break, are the corpus: the training sequences are exactly those the train
 * job makes of a text file holding the rows as lines (order the Dataset first if its order
 * matters). Every param is documented with its default below; {@code explainParams()} prints them.
 *
 * <pre>{@code
 * Dataset<Row> docs = spark.read().parquet("hdfs:///corpora/docs.parquet");
 * GptTextModel model = new GptEstimator().setTextCol("body").setContextLength(128).setSteps(2000)
 *     .setWorldSize(4).setCheckpointDir("hdfs:///runs/docs").fit(docs);
 * model.setPromptCol("title").setMaxTokens(40).transform(docs).select("perplexity", "generated").show();
 * }</pre>
 */
public final class GptEstimator extends Estimator<GptTextModel> implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(GptEstimator.class);
  private static final Map<String, Object> DEFAULTS = TrainConfig.defaults();

  private final String uid;
  private transient MetricsSink sink;

  private final Param<String> textCol;
  private final Param<String> tokenizer;
  private final IntParam contextLength;
  private final IntParam dModel;
  private final IntParam layers;
  private final IntParam heads;
  private final DoubleParam dropout;
  private final DoubleParam validationFraction;
  private final IntParam worldSize;
  private final IntParam microBatch;
  private final LongParam steps;
  private final DoubleParam learningRate;
  private final LongParam seed;
  private final Param<String> checkpointDir;
  private final Param<String> settings;

  /** An estimator with a random uid and every param at its default. */
  public GptEstimator() {
    this(Identifiable$.MODULE$.randomUID("gptEstimator"));
  }

  /** An estimator with this uid (Spark's copy and persistence use it). */
  public GptEstimator(String uid) {
    this.uid = uid;
    textCol = new Param<>(this, "textCol", "string column of the training text, one row a line (default: text)");
    tokenizer = new Param<>(this, "tokenizer", "byte (vocabulary 256) or gpt2 (BPE, 50257) (default: "
        + DEFAULTS.get("tokenizer") + ")");
    contextLength = new IntParam(this, "contextLength", "tokens per sequence, T (default: "
        + DEFAULTS.get("contextLength") + ")");
    dModel = new IntParam(this, "dModel", "embedding width, C (default: " + DEFAULTS.get("dModel") + ")");
    layers = new IntParam(this, "layers", "Transformer blocks, L (default: " + DEFAULTS.get("layers") + ")");
    heads = new IntParam(this, "heads", "attention heads; must divide dModel (default: " + DEFAULTS.get("heads") + ")");
    dropout = new DoubleParam(this, "dropout", "dropout probability during training (default: "
        + DEFAULTS.get("dropout") + ")");
    validationFraction = new DoubleParam(this, "validationFraction", "share of the sequences (the last ones) held out"
        + " for validation (default: " + DEFAULTS.get("validationFraction") + ")");
    worldSize = new IntParam(this, "worldSize", "data-parallel ranks, one barrier task each (default: "
        + DEFAULTS.get("worldSize") + ")");
    microBatch = new IntParam(this, "microBatch", "sequences per rank per step (default: "
        + DEFAULTS.get("microBatch") + ")");
    steps = new LongParam(this, "steps", "optimizer steps (default: " + DEFAULTS.get("steps") + ")");
    learningRate = new DoubleParam(this, "learningRate", "peak AdamW learning rate (default: "
        + DEFAULTS.get("learningRate") + ")");
    seed = new LongParam(this, "seed", "seed of initialisation, data order and dropout (default: "
        + DEFAULTS.get("seed") + ")");
    checkpointDir = new Param<>(this, "checkpointDir", "checkpoint directory on a filesystem every executor sees;"
        + " empty = a temporary local directory, deleted after fit, for local mode only (default: empty)");
    settings = new Param<>(this, "settings", "any other setting of the GPT run config (conf/tiny.yaml lists them)"
        + " as a flat JSON object, e.g. {\"warmupSteps\": 10}; the params above win over it (default: {})");
    setDefault(textCol, "text");
    setDefault(tokenizer, (String) DEFAULTS.get("tokenizer"));
    setDefault(contextLength, (Integer) DEFAULTS.get("contextLength"));
    setDefault(dModel, (Integer) DEFAULTS.get("dModel"));
    setDefault(layers, (Integer) DEFAULTS.get("layers"));
    setDefault(heads, (Integer) DEFAULTS.get("heads"));
    setDefault(dropout, (Double) DEFAULTS.get("dropout"));
    setDefault(validationFraction, (Double) DEFAULTS.get("validationFraction"));
    setDefault(worldSize, (Integer) DEFAULTS.get("worldSize"));
    setDefault(microBatch, (Integer) DEFAULTS.get("microBatch"));
    setDefault(steps, ((Number) DEFAULTS.get("steps")).longValue());
    setDefault(learningRate, (Double) DEFAULTS.get("learningRate"));
    setDefault(seed, ((Number) DEFAULTS.get("seed")).longValue());
    setDefault(checkpointDir, "");
    setDefault(settings, "{}");
  }

  /**
   * An estimator whose params hold every setting of {@code config}, as the train job builds it.
   * The config's input only names the corpus in the checkpoints' run config: the Dataset given to
   * {@link #fit} is the corpus.
   */
  public static GptEstimator of(TrainConfig config) {
    return new GptEstimator().setSettings(config.toJson())
        .setCheckpointDir(config.loop().checkpoints().checkpointDir());
  }

  @Override
  public String uid() {
    return uid;
  }

  // Params: Spark finds them through these public no-argument accessors.
  /** Column of the training text. Default "text". */
  public Param<String> textCol() {
    return textCol;
  }

  /** Tokenizer id, byte or gpt2. Default byte. */
  public Param<String> tokenizer() {
    return tokenizer;
  }

  /** Tokens per sequence. Default 128. */
  public IntParam contextLength() {
    return contextLength;
  }

  /** Embedding width. Default 128. */
  public IntParam dModel() {
    return dModel;
  }

  /** Transformer blocks. Default 4. */
  public IntParam layers() {
    return layers;
  }

  /** Attention heads. Default 4. */
  public IntParam heads() {
    return heads;
  }

  /** Dropout probability. Default 0. */
  public DoubleParam dropout() {
    return dropout;
  }

  /** Held-out share of the sequences. Default 0.05. */
  public DoubleParam validationFraction() {
    return validationFraction;
  }

  /** Ranks. Default 2. */
  public IntParam worldSize() {
    return worldSize;
  }

  /** Sequences per rank per step. Default 8. */
  public IntParam microBatch() {
    return microBatch;
  }

  /** Optimizer steps. Default 200. */
  public LongParam steps() {
    return steps;
  }

  /** Peak learning rate. Default 0.001. */
  public DoubleParam learningRate() {
    return learningRate;
  }

  /** Seed. Default 1337. */
  public LongParam seed() {
    return seed;
  }

  /** Checkpoint directory; empty = a temporary local one (local mode only). Default empty. */
  public Param<String> checkpointDir() {
    return checkpointDir;
  }

  /** Any other run setting as flat JSON. Default "{}". */
  public Param<String> settings() {
    return settings;
  }

  /** Sets {@link #textCol()}. */
  public GptEstimator setTextCol(String value) {
    return put(textCol, value);
  }

  /** Sets {@link #tokenizer()}. */
  public GptEstimator setTokenizer(String value) {
    return put(tokenizer, value);
  }

  /** Sets {@link #contextLength()}. */
  public GptEstimator setContextLength(int value) {
    return put(contextLength, value);
  }

  /** Sets {@link #dModel()}. */
  public GptEstimator setDModel(int value) {
    return put(dModel, value);
  }

  /** Sets {@link #layers()}. */
  public GptEstimator setLayers(int value) {
    return put(layers, value);
  }

  /** Sets {@link #heads()}. */
  public GptEstimator setHeads(int value) {
    return put(heads, value);
  }

  /** Sets {@link #dropout()}. */
  public GptEstimator setDropout(double value) {
    return put(dropout, value);
  }

  /** Sets {@link #validationFraction()}. */
  public GptEstimator setValidationFraction(double value) {
    return put(validationFraction, value);
  }

  /** Sets {@link #worldSize()}. */
  public GptEstimator setWorldSize(int value) {
    return put(worldSize, value);
  }

  /** Sets {@link #microBatch()}. */
  public GptEstimator setMicroBatch(int value) {
    return put(microBatch, value);
  }

  /** Sets {@link #steps()}. */
  public GptEstimator setSteps(long value) {
    return put(steps, value);
  }

  /** Sets {@link #learningRate()}. */
  public GptEstimator setLearningRate(double value) {
    return put(learningRate, value);
  }

  /** Sets {@link #seed()}. */
  public GptEstimator setSeed(long value) {
    return put(seed, value);
  }

  /** Sets {@link #checkpointDir()}. */
  public GptEstimator setCheckpointDir(String value) {
    return put(checkpointDir, value);
  }

  /** Sets {@link #settings()}. */
  public GptEstimator setSettings(String value) {
    return put(settings, value);
  }

  /** Also delivers every training metrics event to {@code metricsSink} on the driver. Not a param: not saved. */
  public GptEstimator setMetricsSink(MetricsSink metricsSink) {
    this.sink = metricsSink;
    return this;
  }

  /**
   * The run config the params resolve to: defaults, then {@link #settings()}, then the params set
   * here; its input is the settings' input (the table's path) or else names the column.
   *
   * @throws IllegalArgumentException for a bad setting, naming it, the value and what to do
   */
  public TrainConfig trainConfig() {
    Map<String, Object> defaults = new LinkedHashMap<>();
    Map<String, Object> own = new LinkedHashMap<>();
    for (Param<?> p : configParams()) {
      defaults.put(p.name(), getOrDefault(p));
      if (isSet(p)) {
        own.put(p.name(), getOrDefault(p));
      }
    }
    Map<String, Object> other = FlatSettings.fromJson(getOrDefault(settings), "GptEstimator settings");
    String dir = getOrDefault(checkpointDir);
    Object input = other.getOrDefault("input", "column " + getOrDefault(textCol));
    return TrainConfig.fromLayers(defaults, other, own, Map.of("input", input, "format", "text",
        "checkpointDir", dir.isBlank() ? "(temporary)" : dir));
  }

  /** Checks the text column and the params; the output is the model's (the score columns added). */
  @Override
  public StructType transformSchema(StructType schema) {
    TableCorpus.requireTextColumn(schema, getOrDefault(textCol));
    trainConfig();
    return new GptTextModel(uid, null).setTextCol(getOrDefault(textCol)).transformSchema(schema);
  }

  /**
   * Trains on the text of {@link #textCol()}: checks the column, the params and every row first
   * (nothing is written when a check fails: a null text is refused by the first pass over the
   * rows), tokenizes on the executors, trains on worldSize ranks and returns the model of this
   * run's final checkpoint.
   */
  @Override
  public GptTextModel fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
    boolean temporary = getOrDefault(checkpointDir).isBlank();
    if (temporary && !sc.isLocal()) {
      throw new IllegalArgumentException("checkpointDir is empty, but master " + sc.master() + " runs executors in"
          + " other JVMs, which cannot see a local temporary directory; setCheckpointDir(\"hdfs:///...\") or another"
          + " filesystem every executor sees");
    }
    TrainConfig probe = trainConfig();
    TrainingData data = TableCorpus.load(dataset.toDF(), getOrDefault(textCol), new DatasetSpec(probe.input(),
        DatasetSpec.Format.TEXT, probe.tokenizer().id(), probe.contextLength(), probe.validationFraction(),
        probe.loop().worldSize()));
    String dir = null;
    try {
      dir = temporary ? Files.createTempDirectory("ringtrain-gpt-").toString() : getOrDefault(checkpointDir);
      TrainConfig cfg = probe.with("checkpointDir", dir);
      HadoopSettings hadoop = HadoopSettings.of(sc);
      TrainingPreflight.checkRun(cfg, sc.master(), hadoop);
      LOG.info("GPT estimator {}: {}; config {}", uid, data, cfg.toJson());
      GptTrainer trainer = new GptTrainer(cfg);
      TrainedGpt trained = (sink == null ? trainer : trainer.withMetricsSink(sink)).fit(sc, data);
      return copyValues(new GptTextModel(uid, trained).setParent(this), ParamMap.empty());
    } catch (IOException e) {
      throw new UncheckedIOException("GPT training on column " + getOrDefault(textCol) + " failed: " + e.getMessage(),
          e);
    } finally {
      data.unpersist();
      if (temporary && dir != null) {
        deleteQuietly(java.nio.file.Path.of(dir));
      }
    }
  }

  @Override
  public GptEstimator copy(ParamMap extra) {
    GptEstimator copy = defaultCopy(extra);
    copy.sink = sink;
    return copy;
  }

  /** Reads a GptEstimator saved with {@code write().save(path)}. */
  public static MLReader<GptEstimator> read() {
    return new DefaultParamsReader<>();
  }

  /** {@code read().load(path)}. */
  public static GptEstimator load(String path) {
    return read().load(path);
  }

  /** The params that are settings of the run config, named as its keys. */
  private Param<?>[] configParams() {
    return new Param<?>[] {tokenizer, contextLength, dModel, layers, heads, dropout, validationFraction, worldSize,
        microBatch, steps, learningRate, seed};
  }

  private <T> GptEstimator put(Param<T> param, T value) {
    set(param, value);
    return this;
  }

  private static void deleteQuietly(java.nio.file.Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("could not delete the temporary checkpoint directory {}: {}", dir, e.getMessage());
    }
  }
}
