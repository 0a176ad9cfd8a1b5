// Where `generate` and `evaluate` take their model from: a run's checkpoint
// directory, or a safetensors file (a Hugging Face GPT-2 or an int8 model from
// `ringtrain quantize`, told apart by the file's metadata). A picocli mixin, so
// the options, their help and their check are written once; the driver loads.
package org.ringtrain.jobs;

import java.io.IOException;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.InferenceGpt;
import picocli.CommandLine.Option;

/** {@code --checkpoint-dir DIR} or {@code --weights FILE}, exactly one. */
final class ModelSource {

  @Option(names = "--checkpoint-dir", description = "a run's checkpoint directory (its newest valid checkpoint)")
  String checkpointDir;

  @Option(names = "--weights", description = "a safetensors model file: a GPT-2 in Hugging Face form (e.g. a"
      + " downloaded gpt2/model.safetensors with its config.json beside it, or an exported model.safetensors), or"
      + " an int8 model from `ringtrain quantize` (told apart by the file's metadata)")
  String weights;

  /** The model, read from whichever option was given. */
  InferenceGpt load(HadoopSettings hadoop) throws IOException {
    return InferenceGpt.load(checkpointDir, weights, hadoop);
  }
}
