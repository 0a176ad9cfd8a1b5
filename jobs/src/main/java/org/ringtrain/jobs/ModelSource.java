// Where `generate`, `evaluate` and `export` take their model from: a run's
// checkpoint directory or a GPT-2 safetensors file. A picocli mixin, so the
// options, their help and their check are written once.
package org.ringtrain.jobs;

import java.io.IOException;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.TrainedGpt;
import picocli.CommandLine.Option;

/** {@code --checkpoint-dir DIR} or {@code --weights FILE}, exactly one. */
final class ModelSource {

  @Option(names = "--checkpoint-dir", description = "a run's checkpoint directory (its newest valid checkpoint)")
  String checkpointDir;

  @Option(names = "--weights", description = "a GPT-2 safetensors file in Hugging Face form (e.g. a downloaded"
      + " gpt2/model.safetensors with its config.json beside it), or an exported model.safetensors")
  String weights;

  /** The model, read from whichever option was given. */
  TrainedGpt load(HadoopSettings hadoop) throws IOException {
    if ((checkpointDir == null) == (weights == null)) {
      throw new IllegalArgumentException("give exactly one of --checkpoint-dir DIR (a run's checkpoints) and"
          + " --weights FILE (a GPT-2 safetensors file), but found " + (weights == null ? "neither" : "both"));
    }
    return weights != null ? TrainedGpt.fromWeights(weights) : TrainedGpt.load(checkpointDir, hadoop);
  }
}
