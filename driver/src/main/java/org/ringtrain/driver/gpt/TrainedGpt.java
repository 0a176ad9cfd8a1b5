// The product of training as an immutable value: the model config, the
// tokenizer, a copy of the weights and the exact checkpoint they were read
// from - either the final checkpoint of the run that GptTrainer.fit just did
// (with that run's summary), the newest valid checkpoint of a directory on
// any Hadoop FileSystem (a LoRA run's adapters merged into its base weights),
// or a GPT-2 safetensors file. It generates text and exports Hugging Face
// GPT-2 files; it does not train.
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.driver.tokenize.TokenizerKind;
import org.ringtrain.driver.train.TrainingResult;
import org.ringtrain.ops.gpt.BatchDecoder;
import org.ringtrain.ops.gpt.BatchDecoding;
import org.ringtrain.ops.gpt.FloatGptWeights;
import org.ringtrain.ops.gpt.Gpt2Import;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.lora.LoraModel;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * A trained GPT: config, tokenizer and weights (immutable; the weights are copied on load), and
 * the checkpoint they come from. {@link GptTrainer#fit} returns one with the run's
 * {@link #summary()}; {@link #load} reads one from a directory.
 */
public final class TrainedGpt implements InferenceGpt {
  private final TrainConfig config;
  private final Tokenizer tokenizer;
  private final ModelConfig modelConfig;
  private final float[] weights;
  private final long step;
  private final String checkpoint;
  private final TrainingResult summary; // null unless made by fit

  private TrainedGpt(TrainConfig config, Tokenizer tokenizer, float[] weights, long step, String checkpoint,
      TrainingResult summary) {
    this.config = config;
    this.tokenizer = tokenizer;
    this.modelConfig = config.modelConfig(tokenizer.vocabSize());
    this.weights = weights;
    this.step = step;
    this.checkpoint = checkpoint;
    this.summary = summary;
  }

  /**
   * A model from its parts, as {@link GptTextModel}'s reader restores it.
   *
   * @throws IllegalArgumentException when {@code weights} does not hold the model's parameter count
   */
  static TrainedGpt restored(TrainConfig config, Tokenizer tokenizer, float[] weights, long step, String checkpoint) {
    long expected = GptModel.layout(config.modelConfig(tokenizer.vocabSize())).totalElements();
    if (weights.length != expected) {
      throw new IllegalArgumentException("the weights hold " + weights.length + " values, but the model of this config"
          + " and tokenizer " + tokenizer.id() + " has " + expected + " parameters; the weights belong to another model");
    }
    return new TrainedGpt(config, tokenizer, weights.clone(), step, checkpoint, null);
  }

  /** The model of a checkpoint: its weights, or for a LoRA run its adapters merged into the base weights. */
  private static TrainedGpt of(Checkpoint ck, TrainingResult summary) throws IOException {
    TrainConfig config = TrainConfig.fromJson(ck.state().configJson());
    FinetuneSettings f = config.finetune();
    float[] weights;
    if (f.lora()) {
      ModelConfig shape = config.modelConfig(Tokenizer.forId(ck.state().tokenizerId()).vocabSize());
      try (LoraModel lora = new LoraModel(BaseWeights.load(f, shape, f.baseSha256()), f.loraConfig(), 0)) {
        lora.params().flat().assign(ck.params());
        try (GptModel merged = lora.merged()) {
          weights = merged.params().flat().toFloatVector();
        }
      }
    } else {
      weights = ck.params().toFloatVector();
    }
    return new TrainedGpt(config, Tokenizer.forId(ck.state().tokenizerId()), weights, ck.state().step(), ck.path(),
        summary);
  }

  /**
   * A GPT-2 safetensors file in Hugging Face form (or ringtrain's own model.safetensors) as a
   * trained model, at step 0: the shape from config.json beside it or the file's metadata, the
   * tokenizer from the vocabulary (50257: gpt2, 256: byte).
   *
   * @throws IllegalArgumentException when the file does not say its head count or its vocabulary
   *                                  fits no tokenizer
   */
  public static TrainedGpt fromWeights(String file) throws IOException {
    Path path = Path.of(file);
    Gpt2Import.Shape shape = Gpt2Import.shape(path);
    if (shape.heads() == 0) {
      throw new IllegalArgumentException(file + " does not say how many attention heads the model has (n_head): put"
          + " its Hugging Face config.json beside it (the file downloaded with the weights)");
    }
    TokenizerKind kind = null;
    for (TokenizerKind k : TokenizerKind.values()) {
      if (k.tokenizer().vocabSize() == shape.vocabSize()) {
        kind = k;
      }
    }
    if (kind == null) {
      throw new IllegalArgumentException(file + " has a vocabulary of " + shape.vocabSize() + " tokens, but ringtrain's"
          + " tokenizers have 256 (byte) and 50257 (gpt2); use a GPT-2 file with one of those vocabularies");
    }
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("input", file);
    settings.put("checkpointDir", path.toAbsolutePath().getParent().toString());
    settings.put("initFrom", file);
    settings.put("tokenizer", kind.name().toLowerCase(Locale.ROOT));
    settings.put("contextLength", shape.contextLength());
    settings.put("dModel", shape.dModel());
    settings.put("layers", shape.layers());
    settings.put("heads", shape.heads());
    TrainConfig config = TrainConfig.fromLayers(settings);
    try (GptModel model = Gpt2Import.model(path, config.modelConfig(shape.vocabSize()))) {
      return new TrainedGpt(config, kind.tokenizer(), model.params().flat().toFloatVector(), 0,
          path.toAbsolutePath().toString(), null);
    }
  }

  /**
   * Writes the weights as Hugging Face's {@code save_pretrained} lays out a GPT-2: {@code dir/model.safetensors}
   * (bare GPT-2 names, Conv1D [in, out] weights, the head tied to wte) and {@code dir/config.json}, so
   * the directory loads with {@code GPT2LMHeadModel.from_pretrained(dir)}, {@link #fromWeights} and
   * {@code --init-from}. The directory is created; existing files are refused.
   *
   * @return the safetensors file written
   */
  public Path export(Path dir) throws IOException {
    Path file = dir.resolve("model.safetensors");
    Path json = dir.resolve(Gpt2Import.CONFIG_FILE);
    if (Files.exists(file) || Files.exists(json)) {
      throw new IllegalArgumentException("export would overwrite " + (Files.exists(file) ? file : json)
          + "; choose an empty or new directory");
    }
    Files.createDirectories(dir);
    ModelConfig c = modelConfig;
    new SafetensorsWriter(GptModel.layout(c)).write(Nd4j.createFromArray(weights), Map.of(), file);
    Files.writeString(json, "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\","
        + " \"activation_function\": \"" + Gpt2Import.ACTIVATION + "\", \"vocab_size\": " + c.vocabSize()
        + ", \"n_positions\": " + c.contextLength() + ", \"n_ctx\": " + c.contextLength() + ", \"n_embd\": "
        + c.dModel() + ", \"n_layer\": " + c.layers() + ", \"n_head\": " + c.heads()
        + ", \"layer_norm_epsilon\": 1e-05, \"tie_word_embeddings\": true}\n");
    return file;
  }

  /**
   * Loads the newest valid checkpoint of {@code checkpointDir}, whichever run wrote it. To keep
   * the weights of one particular run, use what {@link GptTrainer#fit} returned.
   */
  public static TrainedGpt load(String checkpointDir, HadoopSettings hadoop) throws IOException {
    CheckpointStore store = new CheckpointStore(hadoop, checkpointDir);
    TrainingState state = store.latestState().orElseThrow(() -> new IllegalArgumentException(
        "no valid checkpoint in " + checkpointDir + "; train first, or check the path"));
    Tokenizer tokenizer = Tokenizer.forId(state.tokenizerId());
    TrainConfig config = TrainConfig.fromJson(state.configJson());
    ParameterLayout layout = new GptRecipe(config, tokenizer.vocabSize()).layout();
    try (Checkpoint ck = store.loadLatestValid(layout).orElseThrow(() -> new IllegalArgumentException(
        "no valid checkpoint in " + checkpointDir))) {
      return of(ck, null);
    }
  }

  /** The model of {@code run}: the weights of exactly its final checkpoint, with the run as summary. */
  static TrainedGpt of(TrainingResult run, ParameterLayout layout, HadoopSettings hadoop)
      throws IOException {
    try (Checkpoint ck = run.loadFinalCheckpoint(layout, hadoop)) {
      return of(ck, run);
    }
  }

  /** The fully qualified path of the checkpoint these weights were read from. */
  public String checkpoint() {
    return checkpoint;
  }

  /** Whether this model came from {@link GptTrainer#fit} in this JVM, and so has a {@link #summary()}. */
  public boolean hasSummary() {
    return summary != null;
  }

  /**
   * The training run that produced this model: losses, ranks, metrics events.
   *
   * @throws IllegalStateException for a model read by {@link #load}, which has none
   */
  public TrainingResult summary() {
    if (summary == null) {
      throw new IllegalStateException("no training summary: this model was loaded from " + checkpoint
          + ", not trained by GptTrainer.fit in this JVM; its metrics are in the run's metrics.jsonl");
    }
    return summary;
  }

  /** The configuration the model was trained with. */
  @Override
  public TrainConfig config() {
    return config;
  }

  /** The model's shape. */
  @Override
  public ModelConfig modelConfig() {
    return modelConfig;
  }

  /** The tokenizer. */
  @Override
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The step of the checkpoint these weights come from. */
  @Override
  public long step() {
    return step;
  }

  /** A copy of the flat float32 weights, in {@link ParameterLayout} order. */
  public float[] weights() {
    return weights.clone();
  }

  /** A fresh model holding these weights; the caller closes it. */
  public GptModel newModel() {
    GptModel model = new GptModel(modelConfig, DataType.FLOAT);
    model.params().flat().assign(Nd4j.createFromArray(weights));
    return model;
  }

  @Override
  public String generate(String prompt, int tokens, double temperature, int topK, long seed) {
    try (GptScorer scorer = new GptScorer(modelConfig, tokenizer, weights)) {
      return tokenizer.decode(scorer.generate(prompt, tokens, temperature, topK, seed));
    }
  }

  @Override
  public BatchDecoding newDecoder(int maxBatch) {
    return new BatchDecoder(FloatGptWeights.owning(newModel()), maxBatch);
  }

  /** "sha256:" and the hex SHA-256 of the weights as little-endian float32, in layout order. */
  @Override
  public String digest() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (float w : weights) {
        if (!buf.hasRemaining()) {
          md.update(buf.flip());
          buf.clear();
        }
        buf.putFloat(w);
      }
      md.update(buf.flip());
      return "sha256:" + HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  @Override
  public String source() {
    return checkpoint;
  }

  @Override
  public SequenceScorer.Factory scorer() {
    ModelConfig mc = modelConfig;
    return new SequenceScorer.Factory(weights, payload -> scorer(mc, (float[]) payload));
  }

  /** Full forward passes of a float32 model (static: the opener must not capture this object). */
  private static SequenceScorer scorer(ModelConfig mc, float[] weights) {
    GptModel m = new GptModel(mc, DataType.FLOAT);
    m.params().flat().assign(Nd4j.createFromArray(weights));
    return new SequenceScorer() {
      @Override
      public double lossSum(int[] inputs, int[] targets, int batch, int seqLen) {
        return m.forward(inputs, targets, batch, seqLen) * batch * seqLen;
      }

      @Override
      public void close() {
        m.close();
      }
    };
  }

}
