// GptTextModel: a trained GPT as a Spark ML Model, what GptEstimator.fit returns. transform()
// scores every row's text on the executors (one model per task, the weights broadcast once) and
// adds its log-likelihood and perplexity, and, when a prompt column is named, a generated
// continuation. It saves and loads with Spark ML persistence (so a PipelineModel holding it does):
// params as Spark's metadata, then the run config and the weights as GPT-2 safetensors. It does
// not train (GptEstimator does) and is not ops.gpt.GptModel, the layers it runs.
//
// Why over 300 lines: Spark ML wants every param as a field with its doc, default, getter and
// setter, and the Writer/Reader pair belongs next to the model class, as in Spark's own models.
package org.ringtrain.driver.gpt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.DoubleParam;
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
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.data.TableCorpus;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.io.SafetensorsReader;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * A trained GPT. {@link #transform} adds, per row of {@link #textCol()}: the log-likelihood of the
 * text ({@link #logLikelihoodCol()}, the sum of ln p over every token after the first) and its
 * perplexity ({@link #perplexityCol()}); both null for a null text or one of fewer than 2 tokens.
 * With {@link #promptCol()} set it also adds the continuation of each row's prompt
 * ({@link #generatedCol()}: {@link #maxTokens()} new tokens, decoded, without the prompt), sampled
 * with {@link #temperature()} and {@link #topK()} from {@link #seed()}: the same prompt gives the
 * same text in any row and any partitioning. Each param's accessor gives its default.
 */
public final class GptTextModel extends Model<GptTextModel> implements MLWritable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final String FORMAT = "ringtrain-gpt-text-model";

  private final String uid;
  private final transient TrainedGpt trained;

  private final Param<String> textCol;
  private final Param<String> logLikelihoodCol;
  private final Param<String> perplexityCol;
  private final Param<String> promptCol;
  private final Param<String> generatedCol;
  private final IntParam maxTokens;
  private final DoubleParam temperature;
  private final IntParam topK;
  private final LongParam seed;

  GptTextModel(String uid, TrainedGpt trained) {
    this.uid = uid;
    this.trained = trained;
    textCol = new Param<>(this, "textCol", "string column of the texts to score (default: text)");
    logLikelihoodCol = new Param<>(this, "logLikelihoodCol", "output column of each text's log-likelihood, the sum"
        + " of ln p over its tokens after the first (default: logLikelihood)");
    perplexityCol = new Param<>(this, "perplexityCol", "output column of each text's perplexity (default: perplexity)");
    promptCol = new Param<>(this, "promptCol", "string column of prompts to continue; empty = no generation"
        + " (default: empty)");
    generatedCol = new Param<>(this, "generatedCol", "output column of the continuations (default: generated)");
    maxTokens = new IntParam(this, "maxTokens", "tokens generated per prompt (default: 50)", ParamValidators.gtEq(1));
    temperature = new DoubleParam(this, "temperature", "sampling temperature; 0 = greedy (default: 0.8)",
        ParamValidators.gtEq(0));
    topK = new IntParam(this, "topK", "sample from the K most likely tokens; 0 = all (default: 40)",
        ParamValidators.gtEq(0));
    seed = new LongParam(this, "seed", "seed of the sampling, the same for every row (default: 42)");
    setDefault(textCol, "text");
    setDefault(logLikelihoodCol, "logLikelihood");
    setDefault(perplexityCol, "perplexity");
    setDefault(promptCol, "");
    setDefault(generatedCol, "generated");
    setDefault(maxTokens, 50);
    setDefault(temperature, 0.8);
    setDefault(topK, 40);
    setDefault(seed, 42L);
  }

  @Override
  public String uid() {
    return uid;
  }

  // Params: Spark finds them through these public no-argument accessors.
  /** Column of the texts to score. Default "text". */
  public Param<String> textCol() {
    return textCol;
  }

  /** Log-likelihood output column. Default "logLikelihood". */
  public Param<String> logLikelihoodCol() {
    return logLikelihoodCol;
  }

  /** Perplexity output column. Default "perplexity". */
  public Param<String> perplexityCol() {
    return perplexityCol;
  }

  /** Prompt column; empty = no generation. Default empty. */
  public Param<String> promptCol() {
    return promptCol;
  }

  /** Continuation output column. Default "generated". */
  public Param<String> generatedCol() {
    return generatedCol;
  }

  /** Tokens generated per prompt. Default 50. */
  public IntParam maxTokens() {
    return maxTokens;
  }

  /** Sampling temperature; 0 = greedy. Default 0.8. */
  public DoubleParam temperature() {
    return temperature;
  }

  /** Top-k sampling; 0 = all tokens. Default 40. */
  public IntParam topK() {
    return topK;
  }

  /** Sampling seed. Default 42. */
  public LongParam seed() {
    return seed;
  }

  /** Sets {@link #textCol()}. */
  public GptTextModel setTextCol(String value) {
    return put(textCol, value);
  }

  /** Sets {@link #logLikelihoodCol()}. */
  public GptTextModel setLogLikelihoodCol(String value) {
    return put(logLikelihoodCol, value);
  }

  /** Sets {@link #perplexityCol()}. */
  public GptTextModel setPerplexityCol(String value) {
    return put(perplexityCol, value);
  }

  /** Sets {@link #promptCol()}. */
  public GptTextModel setPromptCol(String value) {
    return put(promptCol, value);
  }

  /** Sets {@link #generatedCol()}. */
  public GptTextModel setGeneratedCol(String value) {
    return put(generatedCol, value);
  }

  /** Sets {@link #maxTokens()}. */
  public GptTextModel setMaxTokens(int value) {
    return put(maxTokens, value);
  }

  /** Sets {@link #temperature()}. */
  public GptTextModel setTemperature(double value) {
    return put(temperature, value);
  }

  /** Sets {@link #topK()}. */
  public GptTextModel setTopK(int value) {
    return put(topK, value);
  }

  /** Sets {@link #seed()}. */
  public GptTextModel setSeed(long value) {
    return put(seed, value);
  }

  private <T> GptTextModel put(Param<T> param, T value) {
    set(param, value);
    return this;
  }

  /** The trained model: config, tokenizer, weights, and the training run's summary when fit made it in this JVM. */
  public TrainedGpt trained() {
    return trained;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    TableCorpus.requireTextColumn(schema, getOrDefault(textCol()));
    String prompt = getOrDefault(promptCol());
    if (!prompt.isEmpty()) {
      TableCorpus.requireTextColumn(schema, prompt);
    }
    List<String> added = prompt.isEmpty()
        ? List.of(getOrDefault(logLikelihoodCol()), getOrDefault(perplexityCol()))
        : List.of(getOrDefault(logLikelihoodCol()), getOrDefault(perplexityCol()), getOrDefault(generatedCol()));
    StructType out = schema;
    for (String name : added) {
      if (List.of(out.fieldNames()).contains(name)) {
        throw new IllegalArgumentException("output column '" + name + "' already exists in the input (columns "
            + String.join(", ", out.fieldNames()) + "); expected a new name: choose one with setLogLikelihoodCol,"
            + " setPerplexityCol or setGeneratedCol");
      }
      out = out.add(name, name.equals(getOrDefault(generatedCol())) ? DataTypes.StringType : DataTypes.DoubleType,
          true);
    }
    return out;
  }

  /** Adds the score columns (and the generated column when a prompt column is set), computed on the executors. */
  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType out = transformSchema(dataset.schema());
    int textAt = dataset.schema().fieldIndex(getOrDefault(textCol()));
    String prompt = getOrDefault(promptCol());
    int promptAt = prompt.isEmpty() ? -1 : dataset.schema().fieldIndex(prompt);
    Generation gen = new Generation((Integer) getOrDefault(maxTokens()), (Double) getOrDefault(temperature()),
        (Integer) getOrDefault(topK()), (Long) getOrDefault(seed()));
    Broadcast<Shipped> shipped = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext())
        .broadcast(new Shipped(trained.modelConfig(), trained.tokenizer().id(), trained.weights()));
    MapPartitionsFunction<Row, Row> score = rows -> new ScoringIterator(rows, shipped.value(), textAt, promptAt, gen);
    return dataset.toDF().mapPartitions(score, Encoders.row(out));
  }

  @Override
  public GptTextModel copy(ParamMap extra) {
    return copyValues(new GptTextModel(uid, trained), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  /** Reads a model saved with {@code write().save(path)} (also used by PipelineModel.load). */
  public static MLReader<GptTextModel> read() {
    return new Reader();
  }

  /** {@code read().load(path)}. */
  public static GptTextModel load(String path) {
    return read().load(path);
  }

  @Override
  public String toString() {
    return "GptTextModel[" + uid + ", " + trained.modelConfig() + ", tokenizer " + trained.tokenizer().id() + ", step "
        + trained.step() + "]";
  }

  /** What the executors need, broadcast once per transform. */
  private record Shipped(ModelConfig config, String tokenizerId, float[] weights) implements java.io.Serializable {
  }

  /** The generation params of one transform. */
  private record Generation(int maxTokens, double temperature, int topK, long seed) implements java.io.Serializable {
  }

  /** Scores a partition row by row; the model is closed when the partition ends or the task does. */
  private static final class ScoringIterator implements Iterator<Row> {
    private final Iterator<Row> rows;
    private final GptScorer scorer;
    private final int textAt;
    private final int promptAt;
    private final Generation gen;
    private boolean closed;

    ScoringIterator(Iterator<Row> rows, Shipped s, int textAt, int promptAt, Generation gen) {
      this.rows = rows;
      this.scorer = new GptScorer(s.config(), Tokenizer.forId(s.tokenizerId()), s.weights());
      this.textAt = textAt;
      this.promptAt = promptAt;
      this.gen = gen;
      TaskContext task = TaskContext.get();
      if (task != null) {
        task.addTaskCompletionListener((TaskContext ctx) -> close());
      }
    }

    @Override
    public boolean hasNext() {
      boolean more = rows.hasNext();
      if (!more) {
        close();
      }
      return more;
    }

    @Override
    public Row next() {
      Row r = rows.next();
      Object[] values = new Object[r.size() + (promptAt < 0 ? 2 : 3)];
      for (int c = 0; c < r.size(); c++) {
        values[c] = r.get(c);
      }
      if (!r.isNullAt(textAt)) {
        GptScorer.Score s = scorer.score(r.getString(textAt));
        values[r.size()] = s.tokens() == 0 ? null : s.logLikelihood();
        values[r.size() + 1] = s.tokens() == 0 ? null : s.perplexity();
      }
      if (promptAt >= 0 && !r.isNullAt(promptAt)) {
        String prompt = r.getString(promptAt);
        int[] all = scorer.generate(prompt, gen.maxTokens(), gen.temperature(), gen.topK(), gen.seed());
        int promptTokens = all.length - gen.maxTokens();
        values[r.size() + 2] = scorer.tokenizer().decode(java.util.Arrays.copyOfRange(all, promptTokens, all.length));
      }
      return RowFactory.create(values);
    }

    private void close() {
      if (!closed) {
        closed = true;
        scorer.close();
      }
    }
  }

  /** Saves metadata (params), then data/model.json (format, run config, tokenizer, step) and data/model.safetensors. */
  private static final class Writer extends MLWriter {
    private final GptTextModel model;

    Writer(GptTextModel model) {
      this.model = model;
    }

    @Override
    public void saveImpl(String path) {
      DefaultParamsWriter.saveMetadata(model, path, sparkSession());
      TrainedGpt t = model.trained;
      Configuration conf = sparkSession().sparkContext().hadoopConfiguration();
      Path data = new Path(path, "data");
      try {
        FileSystem fs = data.getFileSystem(conf);
        try (OutputStream out = fs.create(new Path(data, "model.safetensors"), true)) {
          new SafetensorsWriter(GptModel.layout(t.modelConfig())).write(Nd4j.createFromArray(t.weights()),
              Map.of("ringtrain.tokenizer", t.tokenizer().id()), out);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format", FORMAT);
        doc.put("version", 1);
        doc.put("config", t.config().toJson());
        doc.put("tokenizer", t.tokenizer().id());
        doc.put("step", t.step());
        doc.put("checkpoint", t.checkpoint());
        try (OutputStream out = fs.create(new Path(data, "model.json"), true)) {
          JSON.writerWithDefaultPrettyPrinter().writeValue(out, doc);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot save the GPT model to " + path + ": " + e.getMessage(), e);
      }
    }
  }

  /** Reads what {@link Writer} saved; refuses another format or version with what it found. */
  private static final class Reader extends MLReader<GptTextModel> {
    @Override
    public GptTextModel load(String path) {
      DefaultParamsReader.Metadata metadata = DefaultParamsReader.loadMetadata(path, sparkSession(),
          GptTextModel.class.getName());
      Configuration conf = sparkSession().sparkContext().hadoopConfiguration();
      Path data = new Path(path, "data");
      try {
        FileSystem fs = data.getFileSystem(conf);
        Map<?, ?> doc;
        try (InputStream in = fs.open(new Path(data, "model.json"))) {
          doc = JSON.readValue(in, Map.class);
        }
        if (!FORMAT.equals(doc.get("format")) || !Integer.valueOf(1).equals(doc.get("version"))) {
          throw new IOException(data + "/model.json: expected format " + FORMAT + " version 1, found format "
              + doc.get("format") + " version " + doc.get("version") + "; load it with the ringtrain version that"
              + " saved it");
        }
        TrainConfig config = TrainConfig.fromJson((String) doc.get("config"));
        Tokenizer tokenizer = Tokenizer.forId((String) doc.get("tokenizer"));
        ParameterLayout layout = GptModel.layout(config.modelConfig(tokenizer.vocabSize()));
        INDArray flat = Nd4j.create(DataType.FLOAT, layout.totalElements());
        try (InputStream in = fs.open(new Path(data, "model.safetensors"))) {
          new SafetensorsReader(layout).read(in, flat);
        }
        TrainedGpt trained = TrainedGpt.restored(config, tokenizer, flat.toFloatVector(),
            ((Number) doc.get("step")).longValue(), (String) doc.get("checkpoint"));
        GptTextModel model = new GptTextModel(metadata.uid(), trained);
        metadata.getAndSetParams(model, scala.Option.empty());
        return model;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot load the GPT model from " + path + ": " + e.getMessage(), e);
      }
    }
  }
}
