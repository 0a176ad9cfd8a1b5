/*
 * BlockTensors: the one table of a Transformer block's parameter tensors (Hugging Face GPT-2
 * names, shapes as functions of the width C, forward-use order) and the record of their views,
 * looked up by name once so a training step does no string work. It holds views only, never its
 * own memory, and knows nothing of what sits around the blocks (embeddings, heads).
 */
package org.ringtrain.ops.transformer;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * One block's tensors (parameters or their gradients), with llm.c's short names. Every model
 * built of Transformer blocks (the GPT decoder, the Transformer classifier) lays its blocks out
 * with {@link #addTo} and views them with {@link #of}, so the names and shapes live only here.
 *
 * @param ln1w     [C]      h.i.ln_1.weight
 * @param ln1b     [C]      h.i.ln_1.bias
 * @param qkvW     [C, 3C]  h.i.attn.c_attn.weight
 * @param qkvB     [3C]     h.i.attn.c_attn.bias
 * @param attProjW [C, C]   h.i.attn.c_proj.weight
 * @param attProjB [C]      h.i.attn.c_proj.bias
 * @param ln2w     [C]      h.i.ln_2.weight
 * @param ln2b     [C]      h.i.ln_2.bias
 * @param fcW      [C, 4C]  h.i.mlp.c_fc.weight
 * @param fcB      [4C]     h.i.mlp.c_fc.bias
 * @param fcProjW  [4C, C]  h.i.mlp.c_proj.weight
 * @param fcProjB  [C]      h.i.mlp.c_proj.bias
 */
public record BlockTensors(INDArray ln1w, INDArray ln1b, INDArray qkvW, INDArray qkvB,
    INDArray attProjW, INDArray attProjB, INDArray ln2w, INDArray ln2b,
    INDArray fcW, INDArray fcB, INDArray fcProjW, INDArray fcProjB) {

  /**
   * One row of the table: the name suffix after {@code h.i.} and the shape in units of C
   * ({@code {1, 3}} is [C, 3C]).
   *
   * @param suffix     Hugging Face GPT-2 name after the block prefix
   * @param widthsOfC  the shape, each dimension a multiple of C
   */
  public record Spec(String suffix, int... widthsOfC) {

    /** The shape for width {@code c}. */
    public long[] shape(long c) {
      long[] shape = new long[widthsOfC.length];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = widthsOfC[i] * c;
      }
      return shape;
    }
  }

  /** The block's tensors in buffer (forward-use) order: the one place they are listed. */
  public static final List<Spec> TABLE = List.of(
      new Spec("ln_1.weight", 1), new Spec("ln_1.bias", 1),
      new Spec("attn.c_attn.weight", 1, 3), new Spec("attn.c_attn.bias", 3),
      new Spec("attn.c_proj.weight", 1, 1), new Spec("attn.c_proj.bias", 1),
      new Spec("ln_2.weight", 1), new Spec("ln_2.bias", 1),
      new Spec("mlp.c_fc.weight", 1, 4), new Spec("mlp.c_fc.bias", 4),
      new Spec("mlp.c_proj.weight", 4, 1), new Spec("mlp.c_proj.bias", 1));

  /** The name prefix of block {@code i}, e.g. {@code "h.3."}. */
  public static String prefix(int i) {
    return "h." + i + ".";
  }

  /** The name of block {@code i}'s first tensor, where its range in the flat buffer starts. */
  public static String firstName(int i) {
    return prefix(i) + TABLE.get(0).suffix();
  }

  /** Appends block {@code i}'s tensors for width {@code c} to a layout, in {@link #TABLE} order. */
  public static void addTo(ParameterLayout.Builder layout, int i, long c) {
    String p = prefix(i);
    for (Spec s : TABLE) {
      layout.add(p + s.suffix(), s.shape(c));
    }
  }

  /** The views of block {@code i} in {@code buffer}. */
  public static BlockTensors of(ParameterBuffer buffer, int i) {
    INDArray[] v = new INDArray[TABLE.size()];
    String p = prefix(i);
    for (int k = 0; k < v.length; k++) {
      v[k] = buffer.view(p + TABLE.get(k).suffix());
    }
    return new BlockTensors(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]);
  }

  /** The views of blocks {@code 0 .. layers-1} in {@code buffer}, index = block. */
  public static BlockTensors[] allOf(ParameterBuffer buffer, int layers) {
    BlockTensors[] blocks = new BlockTensors[layers];
    for (int i = 0; i < layers; i++) {
      blocks[i] = of(buffer, i);
    }
    return blocks;
  }
}
