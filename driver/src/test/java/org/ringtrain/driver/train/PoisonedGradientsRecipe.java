/*
 * PoisonedGradientsRecipe: a test fixture for RankLoopTest. A tiny GPT whose backward writes a NaN
 * into the gradients at chosen steps, on every rank, just before the first finished range goes to
 * the ring - as an overflow in backward would. Losses stay finite, so only the all-reduced gradient
 * norm shows it. It is not a test itself.
 */
package org.ringtrain.driver.train;

import java.util.Arrays;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.GradientListener;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.TrainableModel;

/** Rows are windows of T+1 token ids, as for the GPT recipe. */
final class PoisonedGradientsRecipe implements ModelRecipe {
  private static final long serialVersionUID = 1L;

  private final ModelConfig config;
  private final long[] poisonedSteps;

  /** @param poisonedSteps 0-based steps (backward passes) whose gradients get a NaN */
  PoisonedGradientsRecipe(ModelConfig config, long... poisonedSteps) {
    this.config = config;
    this.poisonedSteps = poisonedSteps.clone();
  }

  @Override
  public ParameterLayout layout() {
    return GptModel.layout(config);
  }

  @Override
  public Instance create(long seed, int microBatch) {
    return new PoisonedInstance(GptModel.initialised(config, seed), microBatch);
  }

  @Override
  public int tokensPerRow() {
    return config.contextLength();
  }

  @Override
  public String configJson() {
    return "{\"fixture\":\"PoisonedGradientsRecipe\"}";
  }

  @Override
  public double flopsPerToken() {
    return 6.0 * layout().totalElements();
  }

  private final class PoisonedInstance implements Instance, TrainableModel {
    private final GptModel model;
    private final int[] inputs; // [B*T]
    private final int[] targets; // [B*T]
    private long backwards;

    PoisonedInstance(GptModel model, int microBatch) {
      this.model = model;
      this.inputs = new int[microBatch * config.contextLength()];
      this.targets = new int[microBatch * config.contextLength()];
    }

    @Override
    public TrainableModel model() {
      return this;
    }

    @Override
    public double forward(int[][] rows, int[] picked) {
      int t = config.contextLength();
      for (int i = 0; i < picked.length; i++) {
        System.arraycopy(rows[picked[i]], 0, inputs, i * t, t);
        System.arraycopy(rows[picked[i]], 1, targets, i * t, t);
      }
      return model.forward(inputs, targets, picked.length, t);
    }

    @Override
    public ParameterLayout layout() {
      return model.layout();
    }

    @Override
    public ParameterBuffer params() {
      return model.params();
    }

    @Override
    public ParameterBuffer grads() {
      return model.grads();
    }

    @Override
    public void zeroGrad() {
      model.zeroGrad();
    }

    @Override
    public void backward(GradientListener listener) {
      boolean poison = Arrays.stream(poisonedSteps).anyMatch(s -> s == backwards);
      backwards++;
      if (!poison || listener == null) {
        model.backward(listener);
        return;
      }
      boolean[] done = {false};
      model.backward((from, to) -> {
        if (!done[0]) {
          model.grads().flat().putScalar(to - 1, Float.NaN); // final, and not yet handed to the ring
          done[0] = true;
        }
        listener.ready(from, to);
      });
    }

    @Override
    public void close() {
      model.close();
    }
  }
}
