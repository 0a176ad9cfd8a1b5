/*
 * Teacher: the frozen teacher GPT of a distillation run on one rank. Its Source is what the recipe
 * carries into every rank's task: the teacher's shape, its weights as a Spark broadcast (so they
 * leave the driver once and are read once per executor, never per step) and the loss weights. On
 * a rank it is a float32 model that only runs forward: no gradient buffer, no optimizer state,
 * no dropout. It is not the student and it never changes.
 */
package org.ringtrain.driver.gpt;

import java.io.Serializable;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.gpt.SoftTargets;

/** A frozen teacher on one rank: its logits of each micro-batch, as {@link SoftTargets} for the student. */
final class Teacher implements AutoCloseable {
  private final GptModel model;
  private final SoftTargets soft;

  private Teacher(GptModel model, SoftTargets soft) {
    this.model = model;
    this.soft = soft;
  }

  /** What a distillation recipe carries to the ranks: no weights of its own, only the broadcast's handle. */
  static final class Source implements Serializable {
    private static final long serialVersionUID = 1L;

    private final ModelConfig config;
    private final Broadcast<float[]> weights;
    private final double alpha;
    private final double temperature;

    /**
     * @param config      the teacher's shape
     * @param weights     its flat float32 weights in {@link GptModel#layout} order, broadcast once
     * @param alpha       weight of the soft term
     * @param temperature tau
     */
    Source(ModelConfig config, Broadcast<float[]> weights, double alpha, double temperature) {
      this.config = config;
      this.weights = weights;
      this.alpha = alpha;
      this.temperature = temperature;
    }

    /** The teacher's shape. */
    ModelConfig config() {
      return config;
    }

    /** Forward FLOPs per token of the teacher: 2N + 4 L C T (a third of training's 6N + 12 L C T). */
    double forwardFlopsPerToken() {
      return 2.0 * GptModel.layout(config).totalElements()
          + 4.0 * config.layers() * config.dModel() * config.contextLength();
    }

    /** The teacher as a float32 model for micro-batches of {@code batch} rows of {@code seqLen} tokens. */
    Teacher open(int batch, int seqLen) {
      float[] w = weights.value();
      GptModel model = new GptModel(config, DataType.FLOAT);
      if (w.length != model.params().flat().length()) {
        model.close();
        throw new IllegalStateException("the teacher's broadcast holds " + w.length + " weights, but its config "
            + config + " needs " + model.params().flat().length() + "; the broadcast and the config must come from"
            + " one checkpoint (GptDistiller.fit reads both)");
      }
      model.params().flat().assign(Nd4j.createFromArray(w));
      int tile = GptModel.HEAD_TILE_ROWS;
      // all logits at once (the head uses min(B*T, R) rows): they become the soft targets
      model.setHeadChunkRows((batch * seqLen + tile - 1) / tile * tile);
      return new Teacher(model, new SoftTargets(alpha, temperature));
    }
  }

  /**
   * Runs the teacher on {@code inputs} ([B*T] token ids, the student's inputs of this micro-batch)
   * and returns the soft targets of these rows; valid until the next call.
   */
  SoftTargets targetsFor(int[] inputs, int batch, int seqLen) {
    model.forward(inputs, null, batch, seqLen);
    soft.setTeacherLogits(model.logits());
    return soft;
  }

  /** Frees the teacher's parameters, activations and soft targets. */
  @Override
  public void close() {
    soft.close();
    model.close();
  }
}
