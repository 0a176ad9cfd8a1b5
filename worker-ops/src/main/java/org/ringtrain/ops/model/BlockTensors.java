/*
 * BlockTensors: the twelve tensor views of one Transformer block, looked up by name once so the
 * training step does no string work. It holds views only, never its own memory.
 */
package org.ringtrain.ops.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One block's tensors (parameters or their gradients), with llm.c's short names; see
 * {@link ParameterLayout} for the mapping to Hugging Face names.
 *
 * @param ln1w     [C]
 * @param ln1b     [C]
 * @param qkvW     [C, 3C]
 * @param qkvB     [3C]
 * @param attProjW [C, C]
 * @param attProjB [C]
 * @param ln2w     [C]
 * @param ln2b     [C]
 * @param fcW      [C, 4C]
 * @param fcB      [4C]
 * @param fcProjW  [4C, C]
 * @param fcProjB  [C]
 */
public record BlockTensors(INDArray ln1w, INDArray ln1b, INDArray qkvW, INDArray qkvB,
    INDArray attProjW, INDArray attProjB, INDArray ln2w, INDArray ln2b,
    INDArray fcW, INDArray fcB, INDArray fcProjW, INDArray fcProjB) {

  /** The views of block {@code i} in {@code buffer}. */
  public static BlockTensors of(ParameterBuffer buffer, int i) {
    String p = ParameterLayout.blockPrefix(i);
    return new BlockTensors(
        buffer.view(p + "ln_1.weight"), buffer.view(p + "ln_1.bias"),
        buffer.view(p + "attn.c_attn.weight"), buffer.view(p + "attn.c_attn.bias"),
        buffer.view(p + "attn.c_proj.weight"), buffer.view(p + "attn.c_proj.bias"),
        buffer.view(p + "ln_2.weight"), buffer.view(p + "ln_2.bias"),
        buffer.view(p + "mlp.c_fc.weight"), buffer.view(p + "mlp.c_fc.bias"),
        buffer.view(p + "mlp.c_proj.weight"), buffer.view(p + "mlp.c_proj.bias"));
  }

  /** All block tensors of a buffer, index = block. */
  public static BlockTensors[] allOf(ParameterBuffer buffer) {
    BlockTensors[] blocks = new BlockTensors[buffer.layout().config().layers()];
    for (int i = 0; i < blocks.length; i++) {
      blocks[i] = of(buffer, i);
    }
    return blocks;
  }
}
