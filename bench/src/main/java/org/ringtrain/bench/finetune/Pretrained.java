// The pretrained model bench/finetune-story.sh --pretrained starts from: a training run's
// checkpoint directory (its newest valid checkpoint) or a GPT-2 safetensors file (or a directory
// holding one, as `ringtrain export` writes it), checked against the story's shape and tokenizer
// before Spark starts. It does not train, export or evaluate anything.
package org.ringtrain.bench.finetune;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.ringtrain.driver.fs.HadoopSettings;
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
   * Loads {@code path} and checks it against {@code dims} (T, C, L, NH) and the byte tokenizer.
   *
   * @throws IllegalArgumentException when the path does not exist or holds another shape or tokenizer
   */
  static Pretrained load(String path, int[] dims) throws IOException {
    Path p = Path.of(path);
    Pretrained given;
    if (Files.isRegularFile(p)) {
      given = new Pretrained(TrainedGpt.fromWeights(path), p, "GPT-2 file " + path);
    } else if (Files.isRegularFile(p.resolve("model.safetensors"))) {
      Path file = p.resolve("model.safetensors");
      given = new Pretrained(TrainedGpt.fromWeights(file.toString()), file, "GPT-2 file " + file);
    } else if (Files.isDirectory(p)) {
      TrainedGpt model = TrainedGpt.load(path, HadoopSettings.defaults());
      given = new Pretrained(model, null, model.step() + " steps, checkpoint " + model.checkpoint());
    } else {
      throw new IllegalArgumentException("--pretrained " + path + " does not exist; expected a training run's"
          + " checkpoint directory or a GPT-2 safetensors file (ringtrain export writes one)");
    }
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
