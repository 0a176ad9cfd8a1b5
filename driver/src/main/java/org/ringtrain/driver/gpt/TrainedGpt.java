// The product of training as an immutable value: the model config, the
// tokenizer, a copy of the weights and the exact checkpoint they were read
// from - either the final checkpoint of the run that GptTrainer.fit just did
// (with that run's summary), or the newest valid checkpoint of a directory on
// any Hadoop FileSystem. It generates text; it does not train.
package org.ringtrain.driver.gpt;

import java.io.IOException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.driver.train.TrainingResult;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * A trained GPT: config, tokenizer and weights (immutable; the weights are copied on load), and
 * the checkpoint they come from. {@link GptTrainer#fit} returns one with the run's
 * {@link #summary()}; {@link #load} reads one from a directory.
 */
public final class TrainedGpt {
  private final TrainConfig config;
  private final Tokenizer tokenizer;
  private final ModelConfig modelConfig;
  private final float[] weights;
  private final long step;
  private final String checkpoint;
  private final TrainingResult summary; // null unless made by fit

  private TrainedGpt(Checkpoint ck, TrainingResult summary) {
    this.config = TrainConfig.fromJson(ck.state().configJson());
    this.tokenizer = Tokenizer.forId(ck.state().tokenizerId());
    this.modelConfig = config.modelConfig(tokenizer.vocabSize());
    this.weights = ck.params().toFloatVector();
    this.step = ck.state().step();
    this.checkpoint = ck.path();
    this.summary = summary;
  }

  private TrainedGpt(TrainConfig config, Tokenizer tokenizer, float[] weights, long step, String checkpoint) {
    this.config = config;
    this.tokenizer = tokenizer;
    this.modelConfig = config.modelConfig(tokenizer.vocabSize());
    this.weights = weights.clone();
    this.step = step;
    this.checkpoint = checkpoint;
    this.summary = null;
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
    return new TrainedGpt(config, tokenizer, weights, step, checkpoint);
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
    ParameterLayout layout = GptModel.layout(TrainConfig.fromJson(state.configJson())
        .modelConfig(tokenizer.vocabSize()));
    try (Checkpoint ck = store.loadLatestValid(layout).orElseThrow(() -> new IllegalArgumentException(
        "no valid checkpoint in " + checkpointDir))) {
      return new TrainedGpt(ck, null);
    }
  }

  /** The model of {@code run}: the weights of exactly its final checkpoint, with the run as summary. */
  static TrainedGpt of(TrainingResult run, ParameterLayout layout, HadoopSettings hadoop)
      throws IOException {
    try (Checkpoint ck = run.loadFinalCheckpoint(layout, hadoop)) {
      return new TrainedGpt(ck, run);
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
  public TrainConfig config() {
    return config;
  }

  /** The model's shape. */
  public ModelConfig modelConfig() {
    return modelConfig;
  }

  /** The tokenizer. */
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The step of the checkpoint these weights come from. */
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

  /**
   * Continues {@code prompt} by {@code tokens} tokens. Past the context length the model sees the most
   * recent half-context of text (a sliding window).
   *
   * @param temperature sampling temperature; 0 = greedy
   * @param topK        keep the K most likely tokens; 0 = all
   */
  public String generate(String prompt, int tokens, double temperature, int topK, long seed) {
    try (GptScorer scorer = new GptScorer(modelConfig, tokenizer, weights)) {
      return tokenizer.decode(scorer.generate(prompt, tokens, temperature, topK, seed));
    }
  }

}
