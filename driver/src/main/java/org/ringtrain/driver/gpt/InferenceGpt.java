/*
 * InferenceGpt: a GPT that can generate text and be evaluated, whatever holds its weights: a
 * float32 checkpoint (TrainedGpt) or an int8 quantised file (QuantizedGpt). generate, evaluate and
 * a server take this type. It is not a training interface: nothing here can be resumed.
 */
package org.ringtrain.driver.gpt;

import java.io.IOException;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.BatchDecoding;
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

  /**
   * A decoder of this model's weights for continuous batching (the server's), owning what it
   * allocated: close it when done. Int8 weights stay int8 (its matmuls are the int8 ones).
   *
   * @param maxBatch most rows per step, >= 1
   */
  BatchDecoding newDecoder(int maxBatch);

  /** "sha256:" and the hex SHA-256 of the weights (the float32 values, or the int8 file's bytes). */
  String digest();

  /** The weights and the way to score sequences with them on an executor (see {@link GptEvaluator}). */
  SequenceScorer.Factory scorer();

  /**
   * Loads a weights file given as {@code --weights}, by its safetensors metadata: an int8 model
   * written by {@code ringtrain quantize} (metadata names the scheme) as a {@link QuantizedGpt},
   * anything else as a float32 GPT-2 file in Hugging Face form ({@link TrainedGpt#fromWeights}).
   *
   * @param path a file on any Hadoop FileSystem (a GPT-2 file: a local file)
   * @throws IllegalArgumentException if the file is missing or not a model this version reads, saying why
   */
  static InferenceGpt loadWeights(String path, HadoopSettings hadoop) throws IOException {
    return QuantizedGpt.isInt8File(path, hadoop) ? QuantizedGpt.load(path, hadoop) : TrainedGpt.fromWeights(path);
  }

  /**
   * The model of {@code checkpointDir} or {@code weights}, whichever alone is given (both null or
   * both set is refused): the one entry for commands that read a model for inference.
   *
   * @throws IllegalArgumentException when both or neither are given, or the model cannot be read
   */
  static InferenceGpt load(String checkpointDir, String weights, HadoopSettings hadoop) throws IOException {
    if ((checkpointDir == null) == (weights == null)) {
      throw new IllegalArgumentException("give exactly one of --checkpoint-dir DIR (a run's checkpoints) and"
          + " --weights FILE (a GPT-2 safetensors file or an int8 model from `ringtrain quantize`), but found "
          + (weights == null ? "neither" : "both"));
    }
    return weights != null ? loadWeights(weights, hadoop) : TrainedGpt.load(checkpointDir, hadoop);
  }
}
