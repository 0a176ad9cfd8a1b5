// The pretrained model bench/finetune-story.sh --pretrained starts from, read by the product's
// PretrainedGpt.open (a training run's checkpoint directory, a directory `ringtrain export` wrote
// or a GPT-2 safetensors file) and checked against the story's shape and tokenizer before Spark
// starts. It does not train, export or evaluate anything.
package org.ringtrain.bench.finetune;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.PretrainedGpt;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.ops.gpt.ModelConfig;

/**
 * A model pretrained before the story runs.
 *
 * @param model the weights
 * @param file the GPT-2 safetensors file they came from, or null for a checkpoint (which the story
 *     exports before fine-tuning from it)
 * @param describe what the story's table says the model is
 */
record Pretrained(TrainedGpt model, Path file, String describe) {

  private static final int BYTE_VOCABULARY = 256;

  /**
   * Loads {@code path} (local; see {@link PretrainedGpt#open}) and checks it against {@code dims}
   * (T, C, L, NH) and the byte tokenizer.
   *
   * @throws IllegalArgumentException when the path does not exist, holds no GPT, or holds another
   *                                  shape or tokenizer
   */
  static Pretrained load(String path, int[] dims) throws IOException {
    PretrainedGpt opened = PretrainedGpt.open(path, HadoopSettings.defaults(), "--pretrained");
    TrainedGpt model = opened.model();
    Path file = opened.file().orElse(null);
    Pretrained given = new Pretrained(model, file, file != null ? "GPT-2 file " + file
        : model.step() + " steps, checkpoint " + model.checkpoint());
    ModelConfig c = given.model().modelConfig();
    int[] found = {c.contextLength(), c.dModel(), c.layers(), c.heads()};
    if (!Arrays.equals(found, dims) || c.vocabSize() != BYTE_VOCABULARY) {
      throw new IllegalArgumentException("--pretrained " + path + " holds a model of shape (T, C, L, NH) "
          + Arrays.toString(found) + " with " + c.vocabSize() + " tokens, but the story runs "
          + Arrays.toString(dims) + " with the byte tokenizer (" + BYTE_VOCABULARY + "); pass --shape to match"
          + " the model, or a model of the story's shape");
    }
    return given;
  }
}
