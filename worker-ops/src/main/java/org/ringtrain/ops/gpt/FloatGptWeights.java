/*
 * FloatGptWeights: GptWeights over the float32 parameter buffer of a GptModel, by views, with the
 * model's own layers (Linear, Encoder, TiedLmHead). It copies nothing and owns nothing.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.layers.Encoder;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.TiedLmHead;
import org.ringtrain.ops.param.ParameterBuffer;

/** The weights of a {@link GptModel} as they are: its parameters, read at each call. */
public final class FloatGptWeights implements GptWeights {

  private final ModelConfig config;
  private final ParameterBuffer params;

  /** Views of {@code model}'s parameters; the model stays the owner. */
  public FloatGptWeights(GptModel model) {
    this.config = model.config();
    this.params = model.params();
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
  public void lmHead(INDArray logits, INDArray inp) {
    TiedLmHead.forward(logits, inp, params.view("wte.weight"));
  }

  @Override
  public void close() {
    // The model owns the parameters.
  }
}
