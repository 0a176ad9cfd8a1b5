/*
 * TransformerTrunk: L Transformer blocks and the final LayerNorm over one flat parameter buffer,
 * the part every Transformer model here shares: the GPT decoder puts a token embedding before it
 * and a tied LM head after it, the classifier an embedding before it and pooling and a linear
 * head after it. It holds weight and gradient views only; activations are passed in.
 */
package org.ringtrain.ops.transformer;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.layers.LayerNorm;
import org.ringtrain.ops.layers.PackedRows;
import org.ringtrain.ops.param.GradientListener;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * {@code lnf = LN_f(block_{L-1}( ... block_0(encoded)))} forward, and its backward in exactly the
 * reverse order, telling a {@link GradientListener} when each part of the gradient buffer is
 * final: ln_f's range first, then each block's from the last to the first.
 *
 * <p>Layout contract: the model's layout holds {@code h.0.*} .. {@code h.{L-1}.*} (see
 * {@link BlockTensors#addTo}) followed directly by {@code ln_f.weight} and {@code ln_f.bias}.
 */
public final class TransformerTrunk {

  /** The final LayerNorm's tensor names. */
  public static final String LNF_WEIGHT = "ln_f.weight";
  public static final String LNF_BIAS = "ln_f.bias";

  private final int layers;
  private final int heads;
  private final BlockTensors[] weights;
  private final INDArray lnfW; // [C]
  private final INDArray lnfB; // [C]
  private final long[] blockStart; // offset of each block's first tensor in the flat buffer
  private final long lnfStart;
  private final long lnfEnd;
  private BlockTensors[] grads;
  private BlockAdapters adapters; // null: none
  private INDArray frozenNormGrads; // [2C] where a frozen trunk's layer norms put their unused gradients

  /** The trunk of {@code layers} blocks with {@code heads} attention heads, viewing {@code params}. */
  public TransformerTrunk(ParameterBuffer params, int layers, int heads) {
    ParameterLayout layout = params.layout();
    this.layers = layers;
    this.heads = heads;
    this.weights = BlockTensors.allOf(params, layers);
    this.lnfW = params.view(LNF_WEIGHT);
    this.lnfB = params.view(LNF_BIAS);
    this.blockStart = new long[layers];
    for (int l = 0; l < layers; l++) {
      blockStart[l] = layout.get(BlockTensors.firstName(l)).offset();
    }
    ParameterLayout.TensorSpec bias = layout.get(LNF_BIAS);
    this.lnfStart = layout.get(LNF_WEIGHT).offset();
    this.lnfEnd = bias.offset() + bias.length();
  }

  /** Appends the trunk's tensors (L blocks of width {@code c}, then ln_f) to a layout. */
  public static void addTo(ParameterLayout.Builder layout, int layers, long c) {
    for (int l = 0; l < layers; l++) {
      BlockTensors.addTo(layout, l, c);
    }
    layout.add(LNF_WEIGHT, c).add(LNF_BIAS, c);
  }

  /**
   * Freezes every weight of the trunk for fine-tuning: backward then computes no weight gradient
   * (the linear layers' dW gemms are skipped; the layer norms' small gradients go to a scratch that
   * is thrown away) and needs no gradient buffer, only the input gradients and, through
   * {@code adapters} (null for none), the adapters' own. Irreversible for this trunk.
   */
  public void freeze(BlockAdapters adapters) {
    this.adapters = adapters;
    long c = lnfW.length();
    frozenNormGrads = Nd4j.zeros(lnfW.dataType(), 2 * c);
    INDArray w = frozenNormGrads.get(NDArrayIndex.interval(0, c));
    INDArray b = frozenNormGrads.get(NDArrayIndex.interval(c, 2 * c));
    BlockTensors frozen = new BlockTensors(w, b, null, null, null, null, w, b, null, null, null, null);
    grads = new BlockTensors[layers];
    Arrays.fill(grads, frozen);
  }

  /** Whether {@link #freeze} was called. */
  public boolean frozen() {
    return frozenNormGrads != null;
  }

  /** The per-block weight views, index = block (for KV-cache decoding). */
  public BlockTensors[] blocks() {
    return weights;
  }

  /**
   * Runs the blocks and the final LayerNorm on {@code a.encoded}, leaving the output in
   * {@code a.lnf} [B*T, C].
   *
   * @param mask [T, T] causal or [B, 1, 1, T] key padding, see {@link TransformerBlock#forward}
   */
  public void forward(TransformerActivations a, INDArray mask, int batch, int seqLen) {
    forward(a, mask, TransformerDropout.NONE, batch, seqLen);
  }

  /**
   * {@link #forward(TransformerActivations, INDArray, int, int)} with dropout inside the blocks
   * (training); {@link TransformerDropout#NONE} gives exactly the forward without dropout.
   *
   * @param drop the forward's dropout; backward must be given the same
   */
  public void forward(TransformerActivations a, INDArray mask, TransformerDropout drop, int batch, int seqLen) {
    forward(a, mask, drop, null, batch, seqLen);
  }

  /**
   * The forward above on packed token rows ({@code packing} null: [B*T, C]); {@code a} must have
   * been carved for them and {@code drop} made {@link TransformerDropout#packed packed} too.
   */
  public void forward(TransformerActivations a, INDArray mask, TransformerDropout drop, PackedRows packing, int batch,
      int seqLen) {
    for (int l = 0; l < layers; l++) {
      TransformerBlock.forward(a.blocks[l], a.scratch, a.blockInput(l), mask, drop, l, weights[l], adapters, packing,
          batch, seqLen, heads);
    }
    LayerNorm.forward(a.lnf, a.lnfMean, a.lnfRstd, a.blocks[layers - 1].out, lnfW, lnfB);
  }

  /**
   * Backward from {@code a.scratch.dln} (the gradient of {@code a.lnf}, written by the model's
   * head) to {@code a.dresidual} (the gradient of {@code a.encoded}), accumulating into
   * {@code gradBuffer} and reporting each finished range to {@code ready}.
   *
   * <p>With {@link TransformerActivations#recompute}, each block but the last (whose activations
   * forward left in place) first reruns its forward from its kept input: the same arithmetic on
   * the same inputs, so the gradients are bit for bit those without recomputation.
   *
   * @param mask the mask forward used
   */
  public void backward(ParameterBuffer gradBuffer, TransformerActivations a, INDArray mask, GradientListener ready,
      int batch, int seqLen) {
    backward(gradBuffer, a, mask, TransformerDropout.NONE, ready, batch, seqLen);
  }

  /**
   * Backward of a forward with dropout {@code drop}; each mask is recomputed from its key, also
   * when a block's forward is recomputed, so recomputation changes no bit. A {@link #freeze frozen}
   * trunk takes a null {@code gradBuffer}.
   */
  public void backward(ParameterBuffer gradBuffer, TransformerActivations a, INDArray mask, TransformerDropout drop,
      GradientListener ready, int batch, int seqLen) {
    backward(gradBuffer, a, mask, drop, null, ready, batch, seqLen);
  }

  /** Backward of a forward on packed token rows ({@code packing} null: [B*T, C]). */
  public void backward(ParameterBuffer gradBuffer, TransformerActivations a, INDArray mask, TransformerDropout drop,
      PackedRows packing, GradientListener ready, int batch, int seqLen) {
    if (grads == null) {
      grads = BlockTensors.allOf(gradBuffer, layers);
    }
    BlockScratch s = a.scratch;
    a.dresidual.assign(0); // LayerNorm.backward adds into it: the only activation gradient zeroed
    INDArray dlnfW = frozen() ? grads[0].ln1w() : gradBuffer.view(LNF_WEIGHT);
    INDArray dlnfB = frozen() ? grads[0].ln1b() : gradBuffer.view(LNF_BIAS);
    if (frozen()) {
      frozenNormGrads.assign(0); // never read, only kept finite
    }
    LayerNorm.backward(a.dresidual, dlnfW, dlnfB, s.dln,
        a.blocks[layers - 1].out, lnfW, a.lnfMean, a.lnfRstd, s.lnXhat, s.lnTmp, s.rowTmp, a.ones);
    ready.ready(lnfStart, lnfEnd);
    long blockEnd = lnfStart;
    for (int l = layers - 1; l >= 0; l--) {
      if (a.recompute && l < layers - 1) {
        TransformerBlock.forward(a.blocks[l], s, a.blockInput(l), mask, drop, l, weights[l], adapters, packing, batch,
            seqLen, heads);
      }
      TransformerBlock.backward(a.dresidual, grads[l], a.blocks[l], s, a.blockInput(l), drop, l, weights[l], adapters,
          packing, a.ones, batch, seqLen, heads);
      ready.ready(blockStart[l], blockEnd);
      blockEnd = blockStart[l];
    }
  }
}
