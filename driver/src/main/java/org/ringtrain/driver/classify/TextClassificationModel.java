// TextClassificationModel: a fitted text classifier as a Spark ML Model. It
// holds the architecture, the vocabulary and the trained weights; transform()
// runs batched inference on the executors (one model per task, weights shipped
// once per executor as a broadcast) and adds the predicted class, the class
// probabilities and, on request, an explanation per row (occlusion or LIME). It saves and
// loads with Spark ML persistence, so a whole PipelineModel does.
//
// Why over 300 lines: the model's params mirror the estimator's columns, and its
// Writer/Reader pair is kept next to the model class (a format and its reader belong
// together), as Spark's LogisticRegressionModel does.
package org.ringtrain.driver.classify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.classify.ClassifierConfig;
import org.ringtrain.ops.classify.SequenceClassifier;
import org.ringtrain.ops.io.SafetensorsReader;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * A trained text classifier. Params: {@link #inputCol()}, {@link #predictionCol()},
 * {@link #probabilityCol()}, {@link #explanationCol()}, {@link #explainTopK()} and the explanation
 * method: {@link #explainMethod()} with {@link #explainSamples()} and {@link #explainSeed()} for LIME.
 */
public final class TextClassificationModel extends Model<TextClassificationModel> implements MLWritable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final StructType EXPLANATION = new StructType()
      .add("token", DataTypes.StringType, false).add("weight", DataTypes.DoubleType, false);

  private final String uid;
  private final ClassifierConfig spec;
  private final Vocabulary vocabulary;
  private final float[] weights;
  private final double trainingLoss;

  private final Param<String> inputCol;
  private final Param<String> predictionCol;
  private final Param<String> probabilityCol;
  private final Param<String> explanationCol;
  private final IntParam explainTopK;
  private final Param<String> explainMethod;
  private final IntParam explainSamples;
  private final LongParam explainSeed;

  TextClassificationModel(String uid, ClassifierConfig spec, Vocabulary vocabulary, float[] weights,
      double trainingLoss) {
    this.uid = uid;
    this.spec = spec;
    this.vocabulary = vocabulary;
    this.weights = weights;
    this.trainingLoss = trainingLoss;
    inputCol = new Param<>(this, "inputCol", "column of token arrays, array<string> (default: tokens)");
    predictionCol = new Param<>(this, "predictionCol", "output column of the predicted class (default: prediction)");
    probabilityCol = new Param<>(this, "probabilityCol",
        "output column of the class probabilities, a vector (default: probability)");
    explanationCol = new Param<>(this, "explanationCol", "output column of per-token explanations,"
        + " array<struct<token, weight>>; empty = none, since it costs one forward pass per token (occlusion) or per"
        + " sample (lime) (default: empty)");
    explainTopK = new IntParam(this, "explainTopK", "tokens listed in an explanation in each direction, towards"
        + " and away from the predicted class (default: 3)", ParamValidators.gtEq(1));
    explainMethod = new Param<>(this, "explainMethod", "how explanationCol explains: occlusion (one forward pass"
        + " per token) or lime (a local linear model fitted to explainSamples perturbed copies) (default: occlusion)",
        ParamValidators.inArray(new String[] {ExplanationMethod.OCCLUSION, ExplanationMethod.LIME}));
    explainSamples = new IntParam(this, "explainSamples", "LIME: perturbed copies of each row, the row included;"
        + " each costs a forward pass (default: " + ExplanationMethod.DEFAULT_SAMPLES + ")", ParamValidators.gtEq(2));
    explainSeed = new LongParam(this, "explainSeed", "LIME: seed of the perturbations; the same seed gives the same"
        + " explanation (default: " + ExplanationMethod.DEFAULT_SEED + ")");
    setDefault(explainMethod, ExplanationMethod.OCCLUSION);
    setDefault(explainSamples, ExplanationMethod.DEFAULT_SAMPLES);
    setDefault(explainSeed, ExplanationMethod.DEFAULT_SEED);
    setDefault(inputCol, "tokens");
    setDefault(predictionCol, "prediction");
    setDefault(probabilityCol, "probability");
    setDefault(explanationCol, "");
    setDefault(explainTopK, 3);
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Input column of token arrays. Default "tokens". */
  public Param<String> inputCol() {
    return inputCol;
  }

  /** Predicted class column (double). Default "prediction". */
  public Param<String> predictionCol() {
    return predictionCol;
  }

  /** Class probability vector column. Default "probability". */
  public Param<String> probabilityCol() {
    return probabilityCol;
  }

  /** Explanation column; empty = none. Default empty. */
  public Param<String> explanationCol() {
    return explanationCol;
  }

  /** Tokens per direction in an explanation. Default 3. */
  public IntParam explainTopK() {
    return explainTopK;
  }

  /** Explanation method of {@link #explanationCol()} and {@link #explain(List)}: "occlusion" or "lime". Default "occlusion". */
  public Param<String> explainMethod() {
    return explainMethod;
  }

  /** LIME's perturbed copies per row (the row included), at least 2. Default 500. */
  public IntParam explainSamples() {
    return explainSamples;
  }

  /** LIME's seed. Default 42. */
  public LongParam explainSeed() {
    return explainSeed;
  }

  /** Sets {@link #explainMethod()} ("occlusion" or "lime", any case). */
  public TextClassificationModel setExplainMethod(String value) {
    set(explainMethod, new ExplanationMethod(value, ExplanationMethod.DEFAULT_SAMPLES, 0).name());
    return this;
  }

  /** Sets {@link #explainSamples()}. */
  public TextClassificationModel setExplainSamples(int value) {
    set(explainSamples, value);
    return this;
  }

  /** Sets {@link #explainSeed()}. */
  public TextClassificationModel setExplainSeed(long value) {
    set(explainSeed, value);
    return this;
  }

  /** The explanation method the params select. */
  public ExplanationMethod explanationMethod() {
    return new ExplanationMethod(getOrDefault(explainMethod), (Integer) getOrDefault(explainSamples),
        (Long) getOrDefault(explainSeed));
  }

  /** Sets {@link #inputCol()}. */
  public TextClassificationModel setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  /** Sets {@link #predictionCol()}. */
  public TextClassificationModel setPredictionCol(String value) {
    set(predictionCol, value);
    return this;
  }

  /** Sets {@link #probabilityCol()}. */
  public TextClassificationModel setProbabilityCol(String value) {
    set(probabilityCol, value);
    return this;
  }

  /** Sets {@link #explanationCol()}; empty turns explanations off. */
  public TextClassificationModel setExplanationCol(String value) {
    set(explanationCol, value);
    return this;
  }

  /** Sets {@link #explainTopK()}. */
  public TextClassificationModel setExplainTopK(int value) {
    set(explainTopK, value);
    return this;
  }

  /** The encoder: "transformer" or "lstm". */
  public String architecture() {
    return spec.architecture().id();
  }

  /** Number of classes. */
  public int numClasses() {
    return spec.numClasses();
  }

  /** The vocabulary the model was trained with. */
  public Vocabulary vocabulary() {
    return vocabulary;
  }

  /** The mean training loss of the last step (NaN for a model loaded from disk without it). */
  public double trainingLoss() {
    return trainingLoss;
  }

  /** Class probabilities of one token row, computed on the driver. */
  public double[] predictProbabilities(List<String> tokens) {
    return predictBatch(List.of(tokens))[0];
  }

  /**
   * Class probabilities of many token rows, {@value Predictor#BATCH} rows a forward pass, computed
   * on the driver (the model server batches requests through this). A null or empty row is read as
   * one unknown token.
   *
   * @return [rows.size()][numClasses()]
   */
  public double[][] predictBatch(List<List<String>> rows) {
    try (Scorer scorer = scorer()) {
      return scorer.predictBatch(rows);
    }
  }

  /**
   * A predictor of this model to keep and call many times from one thread (a server's classify
   * loop): the network, its weights and its activations are allocated once here, where
   * {@link #predictBatch} and {@link #explain} allocate them on every call. Not thread-safe;
   * {@link Scorer#close()} frees the off-heap memory.
   */
  public Scorer scorer() {
    return new Scorer(new Predictor(spec, vocabulary, weights));
  }

  /** See {@link #scorer()}. */
  public static final class Scorer implements AutoCloseable {
    private final Predictor predictor;

    private Scorer(Predictor predictor) {
      this.predictor = predictor;
    }

    /** As {@link TextClassificationModel#predictBatch}. */
    public double[][] predictBatch(List<List<String>> rows) {
      float[][] f = predictor.predict(rows);
      double[][] out = new double[f.length][];
      for (int i = 0; i < f.length; i++) {
        out[i] = new double[f[i].length];
        for (int k = 0; k < f[i].length; k++) {
          out[i][k] = f[i][k];
        }
      }
      return out;
    }

    /** As {@link TextClassificationModel#explain(List, ExplanationMethod)}. */
    public Explanation explain(List<String> tokens, ExplanationMethod method) {
      return predictor.explain(tokens, method);
    }

    @Override
    public void close() {
      predictor.close();
    }
  }

  /**
   * The explanation of one token row's prediction, computed on the driver, by the method the params
   * select ({@link #explanationMethod()}; occlusion by default).
   */
  public Explanation explain(List<String> tokens) {
    return explain(tokens, explanationMethod());
  }

  /**
   * The explanation of one token row's prediction by {@code method}, computed on the driver: every
   * perturbed copy of the row is predicted in batches of 64. Only the first maxLen tokens count.
   */
  public Explanation explain(List<String> tokens, ExplanationMethod method) {
    try (Scorer scorer = scorer()) {
      return scorer.explain(tokens, method);
    }
  }

  @Override
  public StructType transformSchema(StructType schema) {
    TrainingRows.requireTokens(schema, getOrDefault(inputCol));
    return outputSchema(schema, getOrDefault(predictionCol), getOrDefault(probabilityCol),
        getOrDefault(explanationCol));
  }

  /** {@code schema} plus the prediction, probability and (when named) explanation columns. */
  static StructType outputSchema(StructType schema, String prediction, String probability, String explanation) {
    List<String> added = new ArrayList<>(List.of(prediction, probability));
    if (!explanation.isEmpty()) {
      added.add(explanation);
    }
    for (String name : added) {
      if (List.of(schema.fieldNames()).contains(name)) {
        throw new IllegalArgumentException("output column " + name + " already exists in the input; choose another"
            + " name with setPredictionCol/setProbabilityCol/setExplanationCol");
      }
    }
    StructType out = schema.add(prediction, DataTypes.DoubleType, false)
        .add(probability, SQLDataTypes.VectorType(), false);
    return explanation.isEmpty() ? out : out.add(explanation, DataTypes.createArrayType(EXPLANATION, false), false);
  }

  /**
   * Adds the prediction and probability columns (and explanations when {@link #explanationCol()}
   * is set). A row with null or no tokens is predicted as one unknown token.
   */
  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType out = transformSchema(dataset.schema());
    int tokensAt = dataset.schema().fieldIndex(getOrDefault(inputCol));
    boolean explain = !getOrDefault(explanationCol).isEmpty();
    int topK = (Integer) getOrDefault(explainTopK);
    ExplanationMethod method = explanationMethod();
    Broadcast<Shipped> shipped = org.apache.spark.api.java.JavaSparkContext
        .fromSparkContext(dataset.sparkSession().sparkContext()).broadcast(new Shipped(spec, vocabulary, weights));
    MapPartitionsFunction<Row, Row> predict = rows -> new PredictingIterator(rows, shipped.value(), tokensAt,
        explain, topK, method);
    return dataset.toDF().mapPartitions(predict, Encoders.row(out));
  }

  @Override
  public TextClassificationModel copy(ParamMap extra) {
    TextClassificationModel copy = new TextClassificationModel(uid, spec, vocabulary, weights, trainingLoss);
    return copyValues(copy, extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  /** Reads a model saved with {@code write().save(path)} (also used by PipelineModel.load). */
  public static MLReader<TextClassificationModel> read() {
    return new Reader();
  }

  /** {@code read().load(path)}. */
  public static TextClassificationModel load(String path) {
    return read().load(path);
  }

  @Override
  public String toString() {
    return "TextClassificationModel[" + uid + ", " + spec + ", " + vocabulary + "]";
  }

  /** What the executors need, broadcast once per transform. */
  private record Shipped(ClassifierConfig spec, Vocabulary vocabulary, float[] weights) implements java.io.Serializable {
  }

  /** Predicts a partition in batches, lazily; the model is closed when the partition ends or the task does. */
  private static final class PredictingIterator implements Iterator<Row> {
    private final Iterator<Row> rows;
    private final Predictor predictor;
    private final int tokensAt;
    private final boolean explain;
    private final int topK;
    private final ExplanationMethod method;
    private final List<Row> ready = new ArrayList<>();
    private int next;
    private boolean closed;

    PredictingIterator(Iterator<Row> rows, Shipped s, int tokensAt, boolean explain, int topK,
        ExplanationMethod method) {
      this.rows = rows;
      this.predictor = new Predictor(s.spec(), s.vocabulary(), s.weights());
      this.tokensAt = tokensAt;
      this.explain = explain;
      this.topK = topK;
      this.method = method;
      TaskContext task = TaskContext.get();
      if (task != null) {
        task.addTaskCompletionListener((TaskContext ctx) -> close());
      }
    }

    @Override
    public boolean hasNext() {
      if (next < ready.size()) {
        return true;
      }
      if (!rows.hasNext()) {
        close();
        return false;
      }
      fill();
      return true;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException("no more rows in this partition");
      }
      return ready.get(next++);
    }

    private void fill() {
      ready.clear();
      next = 0;
      List<Row> in = new ArrayList<>(Predictor.BATCH);
      List<List<String>> tokens = new ArrayList<>(Predictor.BATCH);
      while (rows.hasNext() && in.size() < Predictor.BATCH) {
        Row r = rows.next();
        in.add(r);
        tokens.add(r.isNullAt(tokensAt) ? null : r.getList(tokensAt));
      }
      float[][] probs = predictor.predict(tokens);
      for (int i = 0; i < in.size(); i++) {
        Row r = in.get(i);
        Object[] values = new Object[r.size() + (explain ? 3 : 2)];
        for (int c = 0; c < r.size(); c++) {
          values[c] = r.get(c);
        }
        double[] p = new double[probs[i].length];
        for (int k = 0; k < p.length; k++) {
          p[k] = probs[i][k];
        }
        values[r.size()] = (double) Predictor.argmax(probs[i]);
        values[r.size() + 1] = Vectors.dense(p);
        if (explain) {
          values[r.size() + 2] = explanationRows(predictor.explain(tokens.get(i), method), topK);
        }
        ready.add(RowFactory.create(values));
      }
    }

    /** Spark's row encoder takes arrays as Scala sequences. */
    private static scala.collection.immutable.Seq<Row> explanationRows(Explanation e, int topK) {
      List<Row> out = new ArrayList<>();
      e.towards(topK).forEach(t -> out.add(RowFactory.create(t.token(), t.weight())));
      e.away(topK).forEach(t -> out.add(RowFactory.create(t.token(), t.weight())));
      return scala.jdk.javaapi.CollectionConverters.asScala(out).toList();
    }

    private void close() {
      if (!closed) {
        closed = true;
        predictor.close();
      }
    }
  }

  /** Saves metadata (params), then data/model.json, data/vocabulary.json and data/weights.safetensors. */
  private static final class Writer extends MLWriter {
    private final TextClassificationModel model;

    Writer(TextClassificationModel model) {
      this.model = model;
    }

    @Override
    public void saveImpl(String path) {
      DefaultParamsWriter.saveMetadata(model, path, sparkSession());
      Configuration conf = sparkSession().sparkContext().hadoopConfiguration();
      Path data = new Path(path, "data");
      try {
        FileSystem fs = data.getFileSystem(conf);
        model.vocabulary.save(new Path(data, "vocabulary.json"), conf);
        ParameterLayout layout = SequenceClassifier.layout(model.spec);
        try (OutputStream out = fs.create(new Path(data, "weights.safetensors"), true)) {
          new SafetensorsWriter(layout).write(Nd4j.createFromArray(model.weights),
              Map.of("ringtrain.vocabulary_sha256", model.vocabulary.sha256()), out);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format", "ringtrain-text-classifier");
        doc.put("version", 1);
        doc.put("spec", model.spec);
        doc.put("vocabularySha256", model.vocabulary.sha256());
        doc.put("trainingLoss", Double.isNaN(model.trainingLoss) ? null : model.trainingLoss);
        try (OutputStream out = fs.create(new Path(data, "model.json"), true)) {
          JSON.writerWithDefaultPrettyPrinter().writeValue(out, doc);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot save the text classifier to " + path + ": " + e.getMessage(), e);
      }
    }
  }

  /** Reads what {@link Writer} saved, checking that vocabulary, spec and weights belong together. */
  private static final class Reader extends MLReader<TextClassificationModel> {
    @Override
    public TextClassificationModel load(String path) {
      DefaultParamsReader.Metadata metadata = DefaultParamsReader.loadMetadata(path, sparkSession(),
          TextClassificationModel.class.getName());
      Configuration conf = sparkSession().sparkContext().hadoopConfiguration();
      Path data = new Path(path, "data");
      try {
        Map<?, ?> doc;
        try (InputStream in = data.getFileSystem(conf).open(new Path(data, "model.json"))) {
          doc = JSON.readValue(in, Map.class);
        }
        if (!"ringtrain-text-classifier".equals(doc.get("format")) || !Integer.valueOf(1).equals(doc.get("version"))) {
          throw new IOException(data + "/model.json is not a version-1 ringtrain text classifier (format "
              + doc.get("format") + ", version " + doc.get("version") + ")");
        }
        ClassifierConfig spec = JSON.convertValue(doc.get("spec"), ClassifierConfig.class);
        Vocabulary vocab = Vocabulary.load(new Path(data, "vocabulary.json"), conf);
        if (!vocab.sha256().equals(doc.get("vocabularySha256")) || vocab.size() != spec.vocabSize()) {
          throw new IllegalArgumentException("the vocabulary in " + data + "/vocabulary.json (" + vocab.size()
              + " tokens, sha256 " + vocab.sha256() + ") is not the one this model was trained with ("
              + spec.vocabSize() + " tokens, sha256 " + doc.get("vocabularySha256") + "); restore the model's own"
              + " vocabulary.json: ids from another vocabulary would silently mean other words");
        }
        ParameterLayout layout = SequenceClassifier.layout(spec);
        INDArray flat = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, layout.totalElements());
        try (InputStream in = data.getFileSystem(conf).open(new Path(data, "weights.safetensors"))) {
          new SafetensorsReader(layout).read(in, flat);
        }
        Object loss = doc.get("trainingLoss");
        TextClassificationModel model = new TextClassificationModel(metadata.uid(), spec, vocab, flat.toFloatVector(),
            loss instanceof Number n ? n.doubleValue() : Double.NaN);
        metadata.getAndSetParams(model, scala.Option.empty());
        return model;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot load the text classifier from " + path + ": " + e.getMessage(), e);
      }
    }
  }
}
