/*
 * BaseWeights: the pretrained weights a GPT run starts from (TrainConfig's initFrom): loaded and
 * checked against the run's shape, and digested, so that LoRA checkpoints name the exact base they
 * adapt. It runs on the driver before training (to fail early and record the digest) and on each
 * rank when it builds its model. It is not the file format (ops.gpt.Gpt2Import reads that).
 */
package org.ringtrain.driver.gpt;

import java.io.IOException;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.ops.gpt.Gpt2Import;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

/** Loads, checks and digests the base weights of a run. */
public final class BaseWeights {

  private BaseWeights() {
  }

  /**
   * {@code cfg} with {@code baseSha256} filled in from its {@code initFrom} file (unchanged when it
   * has none). Loads the file once to check its shape against the run's model.
   *
   * @throws IllegalArgumentException when the file's shape differs from the run's (each mismatch
   *                                  named), its head is untied, or a given baseSha256 differs
   */
  public static TrainConfig resolve(TrainConfig cfg, int vocabSize) throws IOException {
    FinetuneSettings f = cfg.finetune();
    if (f.initFrom().isEmpty()) {
      return cfg;
    }
    try (GptModel base = load(f, cfg.modelConfig(vocabSize), f.baseSha256())) {
      return f.baseSha256().isEmpty() ? cfg.with("baseSha256", base.params().sha256()) : cfg;
    }
  }

  /**
   * The base model of {@code f} for {@code model}; with a non-empty {@code expectedSha256}, its
   * weights must have that digest. The caller closes it.
   */
  static GptModel load(FinetuneSettings f, ModelConfig model, String expectedSha256) throws IOException {
    GptModel base = Gpt2Import.model(f.initFromPath(), model);
    String sha = base.params().sha256();
    if (!expectedSha256.isEmpty() && !expectedSha256.equals(sha)) {
      base.close();
      throw new IllegalArgumentException("the base weights in " + f.initFrom() + " have sha256 " + sha
          + ", but this run expects " + expectedSha256 + " (baseSha256, or the run that wrote the checkpoint);"
          + " adapters only mean something on the weights they were trained on: use that file, or start a new run");
    }
    return base;
  }

  /**
   * Refuses to resume {@code run} from a checkpoint written by another kind of run: full vs LoRA
   * fine-tuning, or LoRA adapters of other base weights.
   *
   * @throws IllegalArgumentException naming both sides and what to do
   */
  static void checkResume(TrainConfig run, TrainingState checkpoint) {
    FinetuneSettings mine = run.finetune();
    FinetuneSettings theirs = TrainConfig.fromJson(checkpoint.configJson()).finetune();
    if (mine.finetune() != theirs.finetune()) {
      throw new IllegalArgumentException("cannot resume: the checkpoint at step " + checkpoint.step() + " was written"
          + " by a finetune=" + theirs.finetune().name().toLowerCase() + " run, this run is finetune="
          + mine.finetune().name().toLowerCase() + "; resume with the same setting, or start in an empty directory");
    }
    if (mine.lora() && !mine.baseSha256().equals(theirs.baseSha256())) {
      throw new IllegalArgumentException("cannot resume: the checkpoint at step " + checkpoint.step() + " holds LoRA"
          + " adapters of base weights with sha256 " + theirs.baseSha256() + ", but this run's base ("
          + mine.initFrom() + ") has sha256 " + mine.baseSha256() + "; resume with --init-from on the base they"
          + " were trained on (" + theirs.initFrom() + "), or start in an empty directory");
    }
  }
}
