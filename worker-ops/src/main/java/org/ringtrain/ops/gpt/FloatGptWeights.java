/*
 * FloatGptWeights: GptWeights over the float32 parameter buffer of a GptModel, by views, with the
 * model's own layers (Linear, Encoder, TiedLmHead). It copies nothing and owns the model only when
 * made by owning().
 */
package org.ringtrain.ops.gpt;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.layers.Encoder;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.TiedLmHead;
import org.ringtrain.ops.param.ParameterBuffer;

/** The weights of a {@link GptModel} as they are: its parameters, read at each call. */
public final class FloatGptWeights implements GptWeights {

  private final ModelConfig config;
  private final ParameterBuffer params;
  private final GptModel owned; // closed by close(); null when the caller owns the model

  /** Views of {@code model}'s parameters; the model stays the owner. */
  public FloatGptWeights(GptModel model) {
    this(model, null);
  }

  private FloatGptWeights(GptModel model, GptModel owned) {
    this.config = model.config();
    this.params = model.params();
    this.owned = owned;
  }

  /** Views of {@code model}'s parameters that take the model over: {@link #close} closes it. */
  public static FloatGptWeights owning(GptModel model) {
    return new FloatGptWeights(model, model);
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public INDArray norm(String name) {
    return params.view(name);
  }

  @Override
  public void linear(INDArray out, INDArray inp, String layer) {
    Linear.forward(out, inp, params.view(layer + ".weight"), params.view(layer + ".bias"));
  }

  @Override
  public void embed(INDArray out, INDArray tokens, int batch, int pos) {
    Encoder.forward(out, tokens, params.view("wte.weight"), params.view("wpe.weight"), batch, 1, pos);
  }

  @Override
  public void embedRows(INDArray out, int[] tokens, int[] positions, int n) {
    gatherRows(out, params.view("wte.weight"), params.view("wpe.weight"), tokens, positions, n);
  }

  /** {@code out[i] = wte[tokens[i]] + wpe[positions[i]]}: two gathers and one add (float32 embeddings). */
  public static void gatherRows(INDArray out, INDArray wte, INDArray wpe, int[] tokens, int[] positions, int n) {
    Nd4j.pullRows(wte, out, 1, Arrays.copyOf(tokens, n));
    try (INDArray pos = Nd4j.pullRows(wpe, 1, Arrays.copyOf(positions, n))) {
      out.addi(pos);
    }
  }

  @Override
  public void lmHead(INDArray logits, INDArray inp) {
    TiedLmHead.forward(logits, inp, params.view("wte.weight"));
  }

  @Override
  public void close() {
    if (owned != null) {
      owned.close();
    }
  }
}
