/*
 * LoraModel: a GPT fine-tuned by low-rank adapters. The base GptModel is frozen (its backward
 * computes no weight gradient) and the TrainableModel the training loop sees is the adapters
 * alone: their flat parameters and gradients are what AdamW steps, the ring averages and
 * checkpoints hold. It does not load or digest base weights from files (ops.gpt.Gpt2Import does).
 */
package org.ringtrain.ops.lora;

import java.util.HashMap;
import java.util.Map;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.GradientListener;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.ops.transformer.BlockTensors;

/**
 * Base GPT + adapters. Run forward through {@link #base()} (its blocks call the adapters), then
 * {@link #backward(GradientListener)} here: the listener hears the adapters' ranges, block by
 * block from the last, as backward finishes them.
 *
 * <p>Not thread-safe: one model per rank thread. Closing it closes the base model too.
 */
public final class LoraModel implements TrainableModel {

  private final GptModel base;
  private final LoraConfig config;
  private final LoraAdapters adapters;
  private final Map<Long, Integer> blockOfBaseOffset = new HashMap<>();

  /**
   * Freezes {@code base} (it becomes this model's; see {@link GptModel#freeze}) and puts adapters
   * beside it, lora_A drawn from {@code seed} and lora_B zero, so the output starts as the base's.
   */
  public LoraModel(GptModel base, LoraConfig config, long seed) {
    if (base.frozen()) {
      throw new IllegalArgumentException("the base model is frozen already (it belongs to another LoraModel);"
          + " pass a fresh GptModel");
    }
    this.base = base;
    this.config = config;
    this.adapters = new LoraAdapters(base.config(), config, base.params().dataType());
    adapters.initialise(seed);
    for (int l = 0; l < base.config().layers(); l++) {
      blockOfBaseOffset.put(base.layout().get(BlockTensors.firstName(l)).offset(), l);
    }
    base.freeze(adapters);
  }

  /** The adapters' layout of a {@code base}-shaped GPT with {@code config}, without building a model. */
  public static ParameterLayout layout(ModelConfig base, LoraConfig config) {
    return LoraAdapters.layout(base, config);
  }

  /** The frozen base model: run forward through it. */
  public GptModel base() {
    return base;
  }

  /** The adapters' shape. */
  public LoraConfig loraConfig() {
    return config;
  }

  /** The adapters' layout: the trainable tensors, nothing of the base. */
  @Override
  public ParameterLayout layout() {
    return adapters.params().layout();
  }

  /** The adapters' flat parameters. */
  @Override
  public ParameterBuffer params() {
    return adapters.params();
  }

  /** The adapters' flat gradients, allocated on first use. */
  @Override
  public ParameterBuffer grads() {
    return adapters.grads();
  }

  @Override
  public void zeroGrad() {
    adapters.grads().zero();
  }

  /**
   * Backward of the base's last forward: activation gradients through the frozen base, weight
   * gradients for the adapters only. {@code listener} hears each block's adapter range once it is
   * final, from the last block to the first (the base's own ranges are not reported).
   */
  @Override
  public void backward(GradientListener listener) {
    adapters.grads();
    int layers = base.config().layers();
    long total = layout().totalElements();
    GradientListener mapped = listener == null ? null : (from, to) -> {
      Integer l = blockOfBaseOffset.get(from);
      if (l != null) {
        listener.ready(adapters.blockStart(l), l == layers - 1 ? total : adapters.blockStart(l + 1));
      }
    };
    base.backward(mapped);
  }

  /**
   * A new GPT (of the base's float type) holding the base weights with the adapters folded in
   * ({@code W + (alpha / r) A B}): plain GPT-2 weights that compute what this model computes.
   * The caller closes it.
   */
  public GptModel merged() {
    GptModel out = new GptModel(base.config(), base.params().dataType());
    out.params().flat().assign(base.params().flat());
    adapters.mergeInto(out.params());
    return out;
  }

  /** Frees the adapters and the base model. */
  @Override
  public void close() {
    adapters.close();
    base.close();
  }
}
