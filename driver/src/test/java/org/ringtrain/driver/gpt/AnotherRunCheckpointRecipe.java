/*
 * AnotherRunCheckpointRecipe: a test fixture for GptTrainerTest. It is the GPT recipe, except that
 * when the first rank builds its model - before the run writes any checkpoint - it writes a valid
 * checkpoint of another run, at a step far ahead, into the run's checkpoint directory, as a second
 * run sharing the directory would. It is not a test itself.
 */
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.train.ModelRecipe;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.ParameterLayout;

/** Serialised into the rank tasks like any recipe; in local mode the ranks share this JVM's set below. */
final class AnotherRunCheckpointRecipe implements ModelRecipe {
  private static final long serialVersionUID = 1L;
  /** Directories already written to: the first of the ranks writes, the others only build their model. */
  private static final Set<String> WRITTEN = ConcurrentHashMap.newKeySet();

  private final ModelConfig config;
  private final GptRecipe gpt;
  private final TrainConfig other;
  private final long step;

  /**
   * @param config the model of both runs
   * @param mine   this run's config, which its own checkpoints record
   * @param other  the other run's config: its checkpointDir is the shared directory, its seed
   *               initialises the weights it writes
   * @param step   the step of the other run's checkpoint
   */
  AnotherRunCheckpointRecipe(ModelConfig config, TrainConfig mine, TrainConfig other, long step) {
    this.config = config;
    this.gpt = new GptRecipe(config, mine.toJson());
    this.other = other;
    this.step = step;
  }

  @Override
  public ParameterLayout layout() {
    return gpt.layout();
  }

  @Override
  public Instance create(long seed, int microBatch) {
    if (WRITTEN.add(other.loop().checkpoints().checkpointDir())) {
      try (GptModel model = GptModel.initialised(config, other.loop().seed());
           AdamW adam = new AdamW(layout())) {
        new CheckpointStore(HadoopSettings.defaults(), other.loop().checkpoints().checkpointDir(), CheckpointStore.DEFAULT_KEEP_LAST).write(
            new TrainingState(step, 0, 0, other.loop().seed(), other.toJson(), "byte"), layout(), model.params().flat(), adam);
      } catch (IOException e) {
        throw new UncheckedIOException("the fixture could not write the other run's checkpoint of step " + step
            + " into " + other.loop().checkpoints().checkpointDir() + ": " + e.getMessage(), e);
      }
    }
    return gpt.create(seed, microBatch);
  }

  @Override
  public int tokensPerRow() {
    return gpt.tokensPerRow();
  }

  @Override
  public String configJson() {
    return gpt.configJson();
  }

  @Override
  public double flopsPerToken() {
    return gpt.flopsPerToken();
  }
}
