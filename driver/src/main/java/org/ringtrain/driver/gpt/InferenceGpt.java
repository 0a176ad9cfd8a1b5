/*
 * InferenceGpt: a GPT that can generate text and be evaluated, whatever holds its weights: a
 * float32 checkpoint (TrainedGpt) or an int8 quantised file (QuantizedGpt). generate, evaluate and
 * a server take this type. It is not a training interface: nothing here can be resumed.
 */
package org.ringtrain.driver.gpt;

import java.io.IOException;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.ModelConfig;

/** A model for inference: config, tokenizer, text generation and a scorer for evaluation. */
public interface InferenceGpt {

  /** The configuration the model was trained with. */
  TrainConfig config();

  /** The tokenizer. */
  Tokenizer tokenizer();

  /** The model's shape. */
  ModelConfig modelConfig();

  /** The training step the weights come from. */
  long step();

  /** Where the weights were read from, for logs: a checkpoint or a file. */
  String source();

  /**
   * Continues {@code prompt} by {@code tokens} tokens. Past the context length the model sees the
   * most recent half-context of text (a sliding window).
   *
   * @param temperature sampling temperature; 0 = greedy
   * @param topK        keep the K most likely tokens; 0 = all
   */
  String generate(String prompt, int tokens, double temperature, int topK, long seed);

  /** The weights and the way to score sequences with them on an executor (see {@link GptEvaluator}). */
  SequenceScorer.Factory scorer();

  /**
   * Loads a weights file given as {@code --weights}: an int8 model written by
   * {@code ringtrain quantize}.
   *
   * @param path   a file on any Hadoop FileSystem
   * @throws IllegalArgumentException if the file is missing or not a model this version reads, saying why
   */
  static InferenceGpt loadWeights(String path, HadoopSettings hadoop) throws IOException {
    return QuantizedGpt.load(path, hadoop);
  }
}
