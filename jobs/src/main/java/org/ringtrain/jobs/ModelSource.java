// Which model a generate or evaluate run reads: exactly one of --checkpoint-dir
// (a run's newest checkpoint) and --weights (a model file). The driver loads it.
package org.ringtrain.jobs;

import java.io.IOException;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.InferenceGpt;
import org.ringtrain.driver.gpt.TrainedGpt;

/** The choice shared by the commands that read a model for inference. */
final class ModelSource {

  private ModelSource() {
  }

  /**
   * The model of {@code checkpointDir} or {@code weights}, whichever alone is given.
   *
   * @throws IllegalArgumentException when both or neither are given, or the model cannot be read
   */
  static InferenceGpt load(String checkpointDir, String weights, HadoopSettings hadoop) throws IOException {
    if ((checkpointDir == null) == (weights == null)) {
      throw new IllegalArgumentException("give exactly one of --checkpoint-dir DIR (a training run's checkpoints)"
          + " and --weights FILE (an int8 model from `ringtrain quantize`), but found "
          + (checkpointDir == null ? "neither" : "both"));
    }
    return weights != null ? InferenceGpt.loadWeights(weights, hadoop) : TrainedGpt.load(checkpointDir, hadoop);
  }
}
