// TextClassifier: the Spark ML Estimator of ringtrain's text classifiers: its
// params, their defaults and persistence. fit() hands the resolved params to
// ClassifierTraining, which checks the data, builds the vocabulary, deals encoded
// rows to worldSize ranks and trains a Transformer or LSTM encoder with the same
// barrier stage, ring and checkpoints as GPT training, and returns the fitted
// TextClassificationModel. It does not tokenise: put a Tokenizer (and a
// StopWordsRemover) before it in the Pipeline. With a backbone, the GPT's shape and
// tokenizer replace the encoder params and the word vocabulary (Backbone, resolve).
//
// Why over 300 lines: Spark ML wants every param as a field with its doc, default,
// getter and setter (24 params); they are the estimator's whole public surface and
// read best in one place, as in Spark's own LogisticRegression.
package org.ringtrain.driver.classify;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.MetricsSink;
import org.ringtrain.ops.classify.ClassifierConfig;

/**
 * Trains a text classifier data-parallel. Input: a column of token arrays ({@link #inputCol}) and a
 * numeric label column with classes 0..k-1 ({@link #labelCol}). Every param is documented with its
 * default below; {@code explainParams()} prints them.
 *
 * <pre>{@code
 * Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
 *     new RegexTokenizer().setInputCol("text").setOutputCol("words").setPattern("\\W+"),
 *     new StopWordsRemover().setInputCol("words").setOutputCol("tokens"),
 *     new TextClassifier().setArchitecture("transformer").setEpochs(8)});
 * PipelineModel model = pipeline.fit(train);
 * model.transform(test).select("text", "prediction", "probability").show();
 * }</pre>
 */
public final class TextClassifier extends Estimator<TextClassificationModel> implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private transient MetricsSink sink;
  // The backbone the job's pre-flight read (readBackbone), kept for the next fit so that the GPT is
  // read once per run, not twice; fit takes it and drops it. Null when none was read.
  private transient Backbone backboneRead;
  private transient String backboneReadFrom; // the backbone param's value when it was read

  private final Param<String> inputCol;
  private final Param<String> labelCol;
  private final Param<String> predictionCol;
  private final Param<String> probabilityCol;
  private final Param<String> architecture;
  private final IntParam d;
  private final IntParam layers;
  private final IntParam heads;
  private final IntParam maxLen;
  private final IntParam vocabSize;
  private final IntParam minCount;
  private final IntParam numClasses;
  private final IntParam epochs;
  private final IntParam batchSize;
  private final DoubleParam lr;
  private final DoubleParam weightDecay;
  private final IntParam worldSize;
  private final LongParam seed;
  private final Param<String> checkpointDir;
  private final Param<String> wordVectorsPath;
  private final BooleanParam resume;
  private final DoubleParam dropout;
  private final DoubleParam validationFraction;
  private final IntParam earlyStoppingPatience;
  private final BooleanParam groupByLength;
  private final Param<String> backbone;

  /** A classifier with a random uid and every param at its default. */
  public TextClassifier() {
    this(Identifiable$.MODULE$.randomUID("textClassifier"));
  }

  /** A classifier with this uid (Spark's copy and persistence use it). */
  public TextClassifier(String uid) {
    this.uid = uid;
    inputCol = new Param<>(this, "inputCol", "column of token arrays, array<string> (default: tokens)");
    labelCol = new Param<>(this, "labelCol", "numeric label column, classes 0..k-1 (default: label)");
    predictionCol = new Param<>(this, "predictionCol", "output column of the predicted class (default: prediction)");
    probabilityCol = new Param<>(this, "probabilityCol",
        "output column of the class probabilities, a vector (default: probability)");
    architecture = new Param<>(this, "architecture", "encoder: transformer or lstm (default: transformer)",
        ParamValidators.inArray(new String[] {"transformer", "lstm"}));
    d = new IntParam(this, "d", "embedding width, and the LSTM's hidden size (default: 64)", ParamValidators.gtEq(1));
    layers = new IntParam(this, "layers", "encoder blocks or stacked LSTM layers (default: 2)", ParamValidators.gtEq(1));
    heads = new IntParam(this, "heads", "attention heads of the transformer; must divide d (default: 4)",
        ParamValidators.gtEq(1));
    maxLen = new IntParam(this, "maxLen", "tokens per row kept; longer rows are truncated (default: 64)",
        ParamValidators.gtEq(1));
    vocabSize = new IntParam(this, "vocabSize", "maximum vocabulary size including <pad> and <unk> (default: 20000)",
        ParamValidators.gtEq(3));
    minCount = new IntParam(this, "minCount", "a token enters the vocabulary when it occurs in at least this many"
        + " training rows (default: 2)", ParamValidators.gtEq(1));
    numClasses = new IntParam(this, "numClasses", "number of classes k; 0 = max label + 1 (default: 0)",
        ParamValidators.gtEq(0));
    epochs = new IntParam(this, "epochs", "passes over the training data (default: 10)", ParamValidators.gtEq(1));
    batchSize = new IntParam(this, "batchSize", "rows per rank per step; the global batch is worldSize times this"
        + " (default: 32)", ParamValidators.gtEq(1));
    lr = new DoubleParam(this, "lr", "peak AdamW learning rate, cosine-decayed to a tenth (default: 0.001)",
        ParamValidators.gt(0));
    weightDecay = new DoubleParam(this, "weightDecay", "AdamW weight decay on matrices (default: 0.01)",
        ParamValidators.gtEq(0));
    worldSize = new IntParam(this, "worldSize", "data-parallel ranks, one barrier task each (default: 2)",
        ParamValidators.gtEq(1));
    seed = new LongParam(this, "seed", "seed of initialisation and data order (default: 42)");
    checkpointDir = new Param<>(this, "checkpointDir", "checkpoint directory on a filesystem every executor sees;"
        + " it also gets the metrics log and TensorBoard events. Empty = a temporary local directory, deleted after"
        + " fit, for local mode only (default: empty)");
    wordVectorsPath = new Param<>(this, "wordVectorsPath", "GloVe text file of pretrained word vectors of"
        + " dimension d to initialise the embedding; empty = none (default: empty)");
    resume = new BooleanParam(this, "resume", "continue from the newest valid checkpoint in checkpointDir (a"
        + " restarted job); the training data must be the same, so that the vocabulary is (default: false)");
    dropout = new DoubleParam(this, "dropout", "drop probability during training: the transformer's embeddings,"
        + " attention and residual branches, and both encoders' pooled row before the head; 0 = none (default: 0.0)",
        ParamValidators.inRange(0, 1, true, false));
    validationFraction = new DoubleParam(this, "validationFraction", "share of the training rows held out to"
        + " validate on twice per epoch (validation loss in the metrics; needed by earlyStoppingPatience); 0 = none"
        + " (default: 0.0)", ParamValidators.inRange(0, 1, true, false));
    earlyStoppingPatience = new IntParam(this, "earlyStoppingPatience", "validation passes in a row without a lower"
        + " validation loss after which training stops; the model gets the weights of the best pass, also when"
        + " training runs to its last epoch. 0 = off; needs validationFraction > 0 (default: 0)",
        ParamValidators.gtEq(0));
    groupByLength = new BooleanParam(this, "groupByLength", "length grouping: within each epoch's shuffled order,"
        + " chunks of " + ClassifierTraining.LENGTH_GROUP_BATCHES + " global batches are sorted by row length, cut"
        + " into global batches and those shuffled, so each micro-batch is padded to a nearby length (default: false)");
    setDefault(groupByLength, false);
    backbone = new Param<>(this, "backbone", "a pretrained GPT to start the transformer from: a GPT run's checkpoint"
        + " directory (its newest valid checkpoint) or a GPT-2 safetensors file with config.json beside it. Its"
        + " blocks, wte and wpe initialise the encoder, its tokenizer replaces the word vocabulary, its shape sets d,"
        + " layers, heads and (unless a smaller maxLen is set) maxLen, and attention is causal as in pretraining;"
        + " the head is fresh. Empty = none (default: empty)");
    setDefault(backbone, "");
    setDefault(dropout, 0.0);
    setDefault(validationFraction, 0.0);
    setDefault(earlyStoppingPatience, 0);
    setDefault(resume, false);
    setDefault(inputCol, "tokens");
    setDefault(labelCol, "label");
    setDefault(predictionCol, "prediction");
    setDefault(probabilityCol, "probability");
    setDefault(architecture, "transformer");
    setDefault(d, 64);
    setDefault(layers, 2);
    setDefault(heads, 4);
    setDefault(maxLen, 64);
    setDefault(vocabSize, 20000);
    setDefault(minCount, 2);
    setDefault(numClasses, 0);
    setDefault(epochs, 10);
    setDefault(batchSize, 32);
    setDefault(lr, 1e-3);
    setDefault(weightDecay, 0.01);
    setDefault(worldSize, 2);
    setDefault(seed, 42L);
    setDefault(checkpointDir, "");
    setDefault(wordVectorsPath, "");
  }

  @Override
  public String uid() {
    return uid;
  }

  // Params: Spark finds them through these public no-argument accessors.
  /** Input column of token arrays. Default "tokens". */
  public Param<String> inputCol() {
    return inputCol;
  }

  /** Label column, classes 0..k-1. Default "label". */
  public Param<String> labelCol() {
    return labelCol;
  }

  /** Predicted class column. Default "prediction". */
  public Param<String> predictionCol() {
    return predictionCol;
  }

  /** Class probability vector column. Default "probability". */
  public Param<String> probabilityCol() {
    return probabilityCol;
  }

  /** Encoder: "transformer" or "lstm". Default "transformer". */
  public Param<String> architecture() {
    return architecture;
  }

  /** Embedding width (and LSTM hidden size). Default 64. */
  public IntParam d() {
    return d;
  }

  /** Encoder blocks or LSTM layers. Default 2. */
  public IntParam layers() {
    return layers;
  }

  /** Attention heads (transformer). Default 4. */
  public IntParam heads() {
    return heads;
  }

  /** Tokens kept per row. Default 64. */
  public IntParam maxLen() {
    return maxLen;
  }

  /** Maximum vocabulary size including &lt;pad&gt; and &lt;unk&gt;. Default 20000. */
  public IntParam vocabSize() {
    return vocabSize;
  }

  /** Minimum number of rows a token must occur in to get an id. Default 2. */
  public IntParam minCount() {
    return minCount;
  }

  /** Number of classes; 0 = max label + 1. Default 0. */
  public IntParam numClasses() {
    return numClasses;
  }

  /** Passes over the data. Default 10. */
  public IntParam epochs() {
    return epochs;
  }

  /** Rows per rank per step. Default 32. */
  public IntParam batchSize() {
    return batchSize;
  }

  /** Peak learning rate. Default 0.001. */
  public DoubleParam lr() {
    return lr;
  }

  /** AdamW weight decay. Default 0.01. */
  public DoubleParam weightDecay() {
    return weightDecay;
  }

  /** Ranks. Default 2. */
  public IntParam worldSize() {
    return worldSize;
  }

  /** Seed. Default 42. */
  public LongParam seed() {
    return seed;
  }

  /** Checkpoint directory; empty = a temporary local one (local mode only). Default empty. */
  public Param<String> checkpointDir() {
    return checkpointDir;
  }

  /** GloVe word vectors file; empty = none. Default empty. */
  public Param<String> wordVectorsPath() {
    return wordVectorsPath;
  }

  /** Whether fit continues from the newest checkpoint in checkpointDir. Default false. */
  public BooleanParam resume() {
    return resume;
  }

  /** Training dropout probability. Default 0.0 (none). */
  public DoubleParam dropout() {
    return dropout;
  }

  /** Share of the training rows held out for validation. Default 0.0 (none). */
  public DoubleParam validationFraction() {
    return validationFraction;
  }

  /** Validation passes without improvement before stopping (and restoring the best weights). Default 0 (off). */
  public IntParam earlyStoppingPatience() {
    return earlyStoppingPatience;
  }

  /**
   * Whether training batches group rows of similar length (fewer padded positions per step; the
   * same rows per epoch, still a function of seed and epoch only). Default false.
   */
  public BooleanParam groupByLength() {
    return groupByLength;
  }

  /** Sets {@link #groupByLength()}. */
  public TextClassifier setGroupByLength(boolean value) {
    set(groupByLength, value);
    return this;
  }

  /**
   * The pretrained GPT backbone (a GPT checkpoint directory or a GPT-2 safetensors file); empty =
   * none. Not together with {@link #wordVectorsPath()}, and for the transformer only. Default empty.
   */
  public Param<String> backbone() {
    return backbone;
  }

  /** Sets {@link #backbone()}. */
  public TextClassifier setBackbone(String value) {
    return put(backbone, value == null ? "" : value.strip());
  }

  /** Whether a {@link #backbone()} is set. */
  boolean hasBackbone() {
    return !getOrDefault(backbone).isBlank();
  }

  /** Sets {@link #dropout()}, in [0, 1). */
  public TextClassifier setDropout(double value) {
    return put(dropout, value);
  }

  /** Sets {@link #validationFraction()}, in [0, 1). */
  public TextClassifier setValidationFraction(double value) {
    return put(validationFraction, value);
  }

  /** Sets {@link #earlyStoppingPatience()}. */
  public TextClassifier setEarlyStoppingPatience(int value) {
    return put(earlyStoppingPatience, value);
  }

  /** Sets {@link #resume()}. */
  public TextClassifier setResume(boolean value) {
    set(resume, value);
    return this;
  }

  /** Sets {@link #inputCol()}. */
  public TextClassifier setInputCol(String value) {
    return put(inputCol, value);
  }

  /** Sets {@link #labelCol()}. */
  public TextClassifier setLabelCol(String value) {
    return put(labelCol, value);
  }

  /** Sets {@link #predictionCol()}. */
  public TextClassifier setPredictionCol(String value) {
    return put(predictionCol, value);
  }

  /** Sets {@link #probabilityCol()}. */
  public TextClassifier setProbabilityCol(String value) {
    return put(probabilityCol, value);
  }

  /** Sets {@link #architecture()} ("transformer" or "lstm", any case). */
  public TextClassifier setArchitecture(String value) {
    return put(architecture, value == null ? null : value.trim().toLowerCase(java.util.Locale.ROOT));
  }

  /** Sets {@link #d()}. */
  public TextClassifier setD(int value) {
    return put(d, value);
  }

  /** Sets {@link #layers()}. */
  public TextClassifier setLayers(int value) {
    return put(layers, value);
  }

  /** Sets {@link #heads()}. */
  public TextClassifier setHeads(int value) {
    return put(heads, value);
  }

  /** Sets {@link #maxLen()}. */
  public TextClassifier setMaxLen(int value) {
    return put(maxLen, value);
  }

  /** Sets {@link #vocabSize()}. */
  public TextClassifier setVocabSize(int value) {
    return put(vocabSize, value);
  }

  /** Sets {@link #minCount()}. */
  public TextClassifier setMinCount(int value) {
    return put(minCount, value);
  }

  /** Sets {@link #numClasses()}. */
  public TextClassifier setNumClasses(int value) {
    return put(numClasses, value);
  }

  /** Sets {@link #epochs()}. */
  public TextClassifier setEpochs(int value) {
    return put(epochs, value);
  }

  /** Sets {@link #batchSize()}. */
  public TextClassifier setBatchSize(int value) {
    return put(batchSize, value);
  }

  /** Sets {@link #lr()}. */
  public TextClassifier setLr(double value) {
    return put(lr, value);
  }

  /** Sets {@link #weightDecay()}. */
  public TextClassifier setWeightDecay(double value) {
    return put(weightDecay, value);
  }

  /** Sets {@link #worldSize()}. */
  public TextClassifier setWorldSize(int value) {
    return put(worldSize, value);
  }

  /** Sets {@link #seed()}. */
  public TextClassifier setSeed(long value) {
    return put(seed, value);
  }

  /** Sets {@link #checkpointDir()}. */
  public TextClassifier setCheckpointDir(String value) {
    return put(checkpointDir, value);
  }

  /** Sets {@link #wordVectorsPath()}. */
  public TextClassifier setWordVectorsPath(String value) {
    return put(wordVectorsPath, value);
  }

  /**
   * Also delivers every training metrics event to {@code metricsSink} on the driver (progress,
   * tests). Not a param: it is not saved with the estimator.
   */
  public TextClassifier setMetricsSink(MetricsSink metricsSink) {
    this.sink = metricsSink;
    return this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    TrainingRows.requireTokens(schema, getOrDefault(inputCol));
    TrainingRows.requireLabel(schema, getOrDefault(labelCol));
    String arch = getOrDefault(architecture);
    if ("transformer".equals(arch) && intOf(d) % intOf(heads) != 0) {
      throw new IllegalArgumentException("heads=" + intOf(heads) + " must divide d=" + intOf(d)
          + " for the transformer; e.g. setHeads(" + gcd(intOf(d), intOf(heads)) + ")");
    }
    if (hasBackbone() && !getOrDefault(wordVectorsPath).isBlank()) {
      throw new IllegalArgumentException("backbone=" + getOrDefault(backbone) + " and wordVectorsPath="
          + getOrDefault(wordVectorsPath) + " both initialise the embedding; give one or the other (a backbone brings"
          + " its own token embeddings and tokenizer)");
    }
    if (hasBackbone() && !"transformer".equals(arch)) {
      throw new IllegalArgumentException("a backbone is a GPT and starts a transformer, but architecture is " + arch
          + "; setArchitecture(\"transformer\") or drop the backbone");
    }
    if (intOf(earlyStoppingPatience) > 0 && doubleOf(validationFraction) == 0) {
      throw new IllegalArgumentException("earlyStoppingPatience=" + intOf(earlyStoppingPatience) + " needs held-out"
          + " rows to validate on, but validationFraction is 0; setValidationFraction(0.1) or so, or"
          + " setEarlyStoppingPatience(0)");
    }
    return TextClassificationModel.outputSchema(schema, getOrDefault(predictionCol), getOrDefault(probabilityCol),
        "");
  }

  /**
   * Trains on {@code dataset}: checks every row first (nothing is written when a check fails),
   * builds the vocabulary, trains on worldSize ranks and returns the model.
   */
  @Override
  public TextClassificationModel fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    Backbone pretrained = null;
    int tokens = intOf(maxLen);
    if (hasBackbone()) { // the model's shape is then the GPT's (Backbone.classifierConfig), not d/layers/heads
      pretrained = readBackbone(HadoopSettings.of(dataset.sparkSession().sparkContext().hadoopConfiguration()));
      backboneRead = null;
      tokens = backboneMaxLen(pretrained);
    }
    ClassifierTraining.Settings settings = new ClassifierTraining.Settings(getOrDefault(inputCol),
        getOrDefault(labelCol), getOrDefault(architecture), intOf(d), intOf(layers), intOf(heads), tokens,
        intOf(vocabSize), intOf(minCount), intOf(numClasses), intOf(epochs), intOf(batchSize), doubleOf(lr),
        doubleOf(weightDecay), intOf(worldSize), longOf(seed), getOrDefault(checkpointDir),
        getOrDefault(wordVectorsPath), (Boolean) getOrDefault(resume), doubleOf(dropout),
        doubleOf(validationFraction), intOf(earlyStoppingPatience), (Boolean) getOrDefault(groupByLength),
        pretrained);
    TextClassificationModel model = ClassifierTraining.fit(uid, settings, dataset, sink);
    return copyValues(model.setParent(this), ParamMap.empty());
  }

  /**
   * Reads the {@link #backbone()} and checks it against the params set explicitly: d, layers and
   * heads, if set, must be the GPT's; maxLen, if set, at most its context length. Nothing else is
   * read or written; the job calls it before Spark starts. The GPT read is kept for the next
   * {@link #fit}, which then does not read it again (unless the backbone param changed).
   *
   * @throws IllegalArgumentException naming the path or the param and what to change
   */
  Backbone readBackbone(HadoopSettings hadoop) {
    Backbone b = backboneRead;
    if (b == null || !getOrDefault(backbone).equals(backboneReadFrom)) {
      try {
        b = Backbone.load(getOrDefault(backbone), hadoop);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read backbone " + getOrDefault(backbone) + ": " + e.getMessage(), e);
      }
    }
    requireShape(d, b.shape().dModel(), "dModel", b);
    requireShape(layers, b.shape().layers(), "layers", b);
    requireShape(heads, b.shape().heads(), "heads", b);
    ClassifierConfig spec = b.classifierConfig(backboneMaxLen(b), 2);
    if (Backbone.parameters(spec) > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("backbone " + b.source() + " makes a classifier of "
          + Backbone.parameters(spec) + " parameters, more than one float[] holds (2^31 - 9); use a smaller GPT");
    }
    backboneRead = b;
    backboneReadFrom = getOrDefault(backbone);
    return b;
  }

  /** The backbone's context length, or maxLen when set smaller; a larger one is refused. */
  private int backboneMaxLen(Backbone b) {
    int context = b.shape().contextLength();
    if (!isSet(maxLen)) {
      return context;
    }
    if (intOf(maxLen) > context) {
      throw new IllegalArgumentException("maxLen=" + intOf(maxLen) + " is longer than backbone " + b.source()
          + " can hold: its position embedding has " + context + " rows; setMaxLen(" + context + ") or less, or leave"
          + " maxLen unset to take " + context);
    }
    return intOf(maxLen);
  }

  private void requireShape(IntParam p, int gpt, String gptName, Backbone b) {
    if (isSet(p) && intOf(p) != gpt) {
      throw new IllegalArgumentException(p.name() + "=" + intOf(p) + " was set, but backbone " + b.source() + " has "
          + gptName + " " + gpt + " and the encoder takes the GPT's shape; leave " + p.name() + " unset or set it to "
          + gpt);
    }
  }

  @Override
  public TextClassifier copy(ParamMap extra) {
    TextClassifier copy = defaultCopy(extra);
    copy.sink = sink;
    copy.backboneRead = backboneRead;
    copy.backboneReadFrom = backboneReadFrom;
    return copy;
  }

  /** Reads a TextClassifier saved with {@code write().save(path)}. */
  public static MLReader<TextClassifier> read() {
    return new DefaultParamsReader<>();
  }

  /** {@code read().load(path)}. */
  public static TextClassifier load(String path) {
    return read().load(path);
  }

  private int intOf(IntParam p) {
    return (Integer) getOrDefault(p);
  }

  private double doubleOf(DoubleParam p) {
    return (Double) getOrDefault(p);
  }

  private long longOf(LongParam p) {
    return (Long) getOrDefault(p);
  }

  private <T> TextClassifier put(Param<T> param, T value) {
    set(param, value);
    return this;
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }
}
