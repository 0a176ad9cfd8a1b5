/*
 * BlockAdapters: the hook through which trainable additions to a block's linear layers (low-rank
 * adapters, LoRA) take part in the block's forward and backward without the block knowing them.
 * It is an interface only: the adapters' maths and memory live with the model that adds them
 * (org.ringtrain.ops.lora).
 */
package org.ringtrain.ops.transformer;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Additions to the four linear layers of each block: after a target layer's forward the block
 * calls {@link #forward}, after its backward {@link #backward}. Untargeted layers are left alone by
 * the implementation (it returns at once).
 */
public interface BlockAdapters {

  /** The block's linear layers an adapter can sit beside, with their Hugging Face names. */
  enum Target {
    /** {@code attn.c_attn}: [C, 3C], the query/key/value projection. */
    QKV("attn.c_attn"),
    /** {@code attn.c_proj}: [C, C], attention's output projection. */
    ATTN_PROJ("attn.c_proj"),
    /** {@code mlp.c_fc}: [C, 4C], the MLP's first layer. */
    FC("mlp.c_fc"),
    /** {@code mlp.c_proj}: [4C, C], the MLP's output projection. */
    MLP_PROJ("mlp.c_proj");

    private final String module;

    Target(String module) {
      this.module = module;
    }

    /** The layer's name inside a block, e.g. {@code attn.c_attn}; its weight is {@code <module>.weight}. */
    public String module() {
      return module;
    }
  }

  /**
   * Adds the adapter's output to the layer's: {@code out += adapter(inp)}.
   *
   * @param layer  the block's index
   * @param target which linear layer just ran
   * @param out    [N, OC] the layer's output, added to
   * @param inp    [N, IC] the layer's input
   */
  void forward(int layer, Target target, INDArray out, INDArray inp);

  /**
   * Adds the adapter's input gradient to the layer's ({@code dinp += d adapter / d inp}) and
   * accumulates the adapter's own gradients.
   *
   * @param layer  the block's index
   * @param target which linear layer's backward just ran
   * @param dinp   [N, IC] the layer's input gradient, added to
   * @param dout   [N, OC] the layer's output gradient
   * @param inp    [N, IC] the layer's forward input
   */
  void backward(int layer, Target target, INDArray dinp, INDArray dout, INDArray inp);
}
