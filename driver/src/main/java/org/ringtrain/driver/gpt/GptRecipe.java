// The GPT language model as a ModelRecipe: rows are windows of T+1 token ids,
// inputs the first T and targets the last T (shifted by one). A run starts
// from a seeded initialisation or from pretrained weights (initFrom), and
// trains every weight or LoRA adapters beside the frozen weights. With a
// Teacher.Source it is the distillation recipe: each training micro-batch first
// runs the frozen teacher on the same inputs, and the student's loss mixes the
// teacher's soft targets into the cross-entropy. Evaluation forwards are the
// plain cross-entropy either way.
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.train.ModelRecipe;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.lora.LoraModel;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.ops.transformer.DropoutKey;

/** A GPT decoder of one {@link ModelConfig}, trained on next-token prediction, optionally distilled from a teacher. */
final class GptRecipe implements ModelRecipe {
  private static final long serialVersionUID = 2L;

  private final ModelConfig config;
  private final String runConfigJson;
  private final boolean recompute;
  private final TrainConfig run; // null: a fresh model, every weight trained
  private final Teacher.Source teacher; // null: ordinary training

  /** The recipe of the model {@code config}, trained by a run whose TrainConfig JSON is {@code runConfigJson}. */
  GptRecipe(ModelConfig config, String runConfigJson) {
    this(config, runConfigJson, false);
  }

  /** As {@link #GptRecipe(ModelConfig, String)}, with activation recomputation on or off (see GptModel.setRecompute). */
  GptRecipe(ModelConfig config, String runConfigJson, boolean recompute) {
    this.config = config;
    this.runConfigJson = runConfigJson;
    this.recompute = recompute;
    this.run = null;
    this.teacher = null;
  }

  /**
   * The recipe of {@code run} (its {@link TrainConfig#finetune()} included; a LoRA run's
   * {@code baseSha256} filled in, see {@link BaseWeights#resolve}) for a vocabulary of {@code vocabSize}.
   */
  GptRecipe(TrainConfig run, int vocabSize) {
    this(run, vocabSize, null);
  }

  /** As {@link #GptRecipe(TrainConfig, int)}, distilled from {@code teacher} (null: not distilled). */
  GptRecipe(TrainConfig run, int vocabSize, Teacher.Source teacher) {
    this.config = run.modelConfig(vocabSize);
    this.runConfigJson = run.toJson();
    this.recompute = run.recompute();
    this.run = run;
    this.teacher = teacher;
  }

  private boolean lora() {
    return run != null && run.finetune().lora();
  }

  @Override
  public int tokensPerRow() {
    return config.contextLength();
  }

  @Override
  public String configJson() {
    return runConfigJson;
  }

  /** The GPT's layout, or for a LoRA run the adapters' (what trains, what checkpoints hold). */
  @Override
  public ParameterLayout layout() {
    return lora() ? LoraModel.layout(config, run.finetune().loraConfig()) : GptModel.layout(config);
  }

  @Override
  public Instance create(long seed, int microBatch) {
    GptModel model;
    if (run == null || run.finetune().initFrom().isEmpty()) {
      model = GptModel.initialised(config, seed);
    } else {
      try {
        model = BaseWeights.load(run.finetune(), config, run.finetune().baseSha256());
      } catch (IOException e) {
        throw new UncheckedIOException("could not read the base weights " + run.finetune().initFrom()
            + " on this executor: " + e.getMessage() + "; the file must be readable on every host", e);
      }
    }
    model.setRecompute(recompute);
    TrainableModel trained = lora() ? new LoraModel(model, run.finetune().loraConfig(), seed) : model;
    Teacher frozen = teacher == null ? null : teacher.open(microBatch, config.contextLength());
    return new GptInstance(model, trained, frozen, seed, microBatch, config.contextLength());
  }

  @Override
  public void checkResume(TrainingState checkpoint) {
    if (run != null) {
      BaseWeights.checkResume(run, checkpoint);
    }
  }

  /**
   * 6N + 12 L C T FLOPs per token (PaLM, appendix B); a LoRA run skips the frozen weights' dW
   * gemms (4N for them) and adds 6 FLOPs per adapter parameter; distillation adds the teacher's forward.
   */
  @Override
  public double flopsPerToken() {
    double attention = 12.0 * config.layers() * config.dModel() * config.contextLength();
    long n = GptModel.layout(config).totalElements();
    double student = lora() ? 4.0 * n + 6.0 * layout().totalElements() + attention : 6.0 * n + attention;
    return student + (teacher == null ? 0 : teacher.forwardFlopsPerToken());
  }

  private static final class GptInstance implements Instance {
    private final GptModel model; // runs forward
    private final TrainableModel trained; // the model itself, or its LoRA adapters
    private final Teacher teacher; // null unless distilling
    private final long seed; // the run's, which the dropout masks are keyed by
    private final int seqLen;
    private final int[] inputs; // [B*T]
    private final int[] targets; // [B*T]

    GptInstance(GptModel model, TrainableModel trained, Teacher teacher, long seed, int microBatch, int seqLen) {
      this.model = model;
      this.trained = trained;
      this.teacher = teacher;
      this.seed = seed;
      this.seqLen = seqLen;
      this.inputs = new int[microBatch * seqLen];
      this.targets = new int[microBatch * seqLen];
    }

    @Override
    public TrainableModel model() {
      return trained;
    }

    @Override
    public double forward(int[][] rows, int[] picked) {
      fill(rows, picked);
      model.setSoftTargets(null); // evaluation is the cross-entropy, distilled or not
      return model.forward(inputs, targets, picked.length, seqLen);
    }

    /** Dropout masks keyed by (seed, step, each row's index in the training data). */
    @Override
    public double forwardTraining(int[][] rows, int[] picked, long step) {
      fill(rows, picked);
      if (teacher != null) {
        model.setSoftTargets(teacher.targetsFor(inputs, picked.length, seqLen));
      }
      return model.forward(inputs, targets, picked.length, seqLen, new DropoutKey(seed, step, picked));
    }

    private void fill(int[][] rows, int[] picked) {
      for (int i = 0; i < picked.length; i++) {
        int[] seq = rows[picked[i]];
        System.arraycopy(seq, 0, inputs, i * seqLen, seqLen);
        System.arraycopy(seq, 1, targets, i * seqLen, seqLen);
      }
    }

    @Override
    public void close() {
      if (teacher != null) {
        teacher.close();
      }
      trained.close();
    }
  }
}
