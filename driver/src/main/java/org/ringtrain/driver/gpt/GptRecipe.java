// The GPT language model as a ModelRecipe: rows are windows of T+1 token ids,
// inputs the first T and targets the last T (shifted by one). With a Teacher.Source it is the
// distillation recipe: each training micro-batch first runs the frozen teacher on the same inputs,
// and the student's loss mixes the teacher's soft targets into the cross-entropy. Evaluation
// forwards are the plain cross-entropy either way.
package org.ringtrain.driver.gpt;

import org.ringtrain.driver.train.ModelRecipe;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.ops.transformer.DropoutKey;

/** A GPT decoder of one {@link ModelConfig}, trained on next-token prediction, optionally distilled from a teacher. */
final class GptRecipe implements ModelRecipe {
  private static final long serialVersionUID = 1L;

  private final ModelConfig config;
  private final String runConfigJson;
  private final boolean recompute;
  private final Teacher.Source teacher; // null: ordinary training

  /** The recipe of the model {@code config}, trained by a run whose TrainConfig JSON is {@code runConfigJson}. */
  GptRecipe(ModelConfig config, String runConfigJson) {
    this(config, runConfigJson, false);
  }

  /** As {@link #GptRecipe(ModelConfig, String)}, with activation recomputation on or off (see GptModel.setRecompute). */
  GptRecipe(ModelConfig config, String runConfigJson, boolean recompute) {
    this(config, runConfigJson, recompute, null);
  }

  /** As {@link #GptRecipe(ModelConfig, String, boolean)}, distilled from {@code teacher} (null: not distilled). */
  GptRecipe(ModelConfig config, String runConfigJson, boolean recompute, Teacher.Source teacher) {
    this.config = config;
    this.runConfigJson = runConfigJson;
    this.recompute = recompute;
    this.teacher = teacher;
  }

  @Override
  public int tokensPerRow() {
    return config.contextLength();
  }

  @Override
  public String configJson() {
    return runConfigJson;
  }

  @Override
  public ParameterLayout layout() {
    return GptModel.layout(config);
  }

  @Override
  public Instance create(long seed, int microBatch) {
    GptModel model = GptModel.initialised(config, seed);
    model.setRecompute(recompute);
    Teacher frozen = teacher == null ? null : teacher.open(microBatch, config.contextLength());
    return new GptInstance(model, frozen, seed, microBatch, config.contextLength());
  }

  /** 6N + 12 L C T FLOPs per token (PaLM, appendix B), plus the teacher's forward when distilling. */
  @Override
  public double flopsPerToken() {
    return 6.0 * layout().totalElements()
        + 12.0 * config.layers() * config.dModel() * config.contextLength()
        + (teacher == null ? 0 : teacher.forwardFlopsPerToken());
  }

  private static final class GptInstance implements Instance {
    private final GptModel model;
    private final Teacher teacher; // null unless distilling
    private final long seed; // the run's, which the dropout masks are keyed by
    private final int seqLen;
    private final int[] inputs; // [B*T]
    private final int[] targets; // [B*T]

    GptInstance(GptModel model, Teacher teacher, long seed, int microBatch, int seqLen) {
      this.model = model;
      this.teacher = teacher;
      this.seed = seed;
      this.seqLen = seqLen;
      this.inputs = new int[microBatch * seqLen];
      this.targets = new int[microBatch * seqLen];
    }

    @Override
    public TrainableModel model() {
      return model;
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
      model.close();
    }
  }
}
