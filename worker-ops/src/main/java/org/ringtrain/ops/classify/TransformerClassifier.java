/*
 * TransformerClassifier: a pre-LayerNorm Transformer encoder (bidirectional, or causal as a GPT's
 * decoder when initialised from one) over variable-length token rows, computed packed (each row's
 * own tokens only, BERT-style unpadding) or padded, masked mean pooling and a linear head, with an
 * explicit backward pass on the flat buffers. It
 * reuses the GPT layers (Encoder, LayerNorm, Linear, Attention, Gelu, Dropout); it has no [CLS]
 * token and no segment embeddings.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.layers.Attention;
import org.ringtrain.ops.layers.Dropout;
import org.ringtrain.ops.layers.Encoder;
import org.ringtrain.ops.layers.Kernels;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.PackedRows;
import org.ringtrain.ops.layers.SoftmaxCrossEntropy;
import org.ringtrain.ops.param.GradientListener;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.transformer.TransformerActivations;
import org.ringtrain.ops.transformer.TransformerTrunk;

/**
 * Token + learned position embedding, a {@link TransformerTrunk} (GPT-2's blocks and final
 * LayerNorm) with attention over all non-padding positions of the row (a key padding mask instead
 * of the causal mask), the mean over the row's non-padding positions, and
 * {@code logits = pooled @ head.weight + head.bias}.
 *
 * <p>Layout (forward-use order): {@code embed.weight [V, C]}, {@code pos.weight [maxLen, C]},
 * the trunk's {@code h.i.*} and {@code ln_f.*}, {@code head.weight [C, K]}, {@code head.bias [K]}.
 *
 * <p>With {@link ClassifierConfig#causal()} the trunk gets a GPT's [T', T'] causal mask instead: a
 * position sees itself and the positions before it, and since padding is trailing, no token sees a
 * padded position; the pooling is the same mean over the row's tokens.
 *
 * <p>Padding: padded keys get {@link Attention#MASKED} added to their scores, so their attention
 * weight is exactly 0; padded query rows attend to the row's tokens (finite values) and have pooling
 * weight 0, so nothing of a padded position reaches the output and its gradient is exactly 0.
 * Positions past the batch's longest row are not computed at all.
 *
 * <p>Packed rows (the default): every token-wise layer (embedding, layer norms, linear layers,
 * GELU, residual adds, dropout, pooling) runs on the batch's N tokens packed into [R, C]
 * ({@link PackedRows}, R = N rounded up to 8) instead of [B*T', C], and only attention sees the
 * padded layout, its input and output moved across in the block. Short rows beside a long one
 * then cost only their own tokens: on the job's data two thirds of the padded positions are
 * padding. A token's arithmetic is that of the padded layout, and so are its dropout masks; sums
 * over tokens (the weight gradients, the pooling) add the same terms in another order, so the
 * results agree with the padded ones to rounding. With {@code -D}{@value #PADDED_PROPERTY}{@code =true}
 * the classifier computes every padded position as the first version did (for comparisons and
 * benchmarks).
 *
 * <p>Cost: {@link ClassifierConfig#trainingFlopsPerToken()}, about {@code 72 L C^2 + 12 L T C}
 * training FLOPs per token.
 */
final class TransformerClassifier extends AbstractClassifier<TransformerClassifierActivations> {

  private final TransformerTrunk trunk;
  private final long headStart; // head.weight and head.bias are the buffer's last elements
  private final long trunkStart; // embed and pos come first
  private final INDArray[] causalMasks; // [T', T'] by T', made on first use; null when bidirectional
  private final boolean packed; // token-wise layers on packed rows (else on every padded position)
  private PackedRows packing; // of the last forward; null when padded

  /** The system property that makes classifiers compute padded positions (default false: packed rows). */
  static final String PADDED_PROPERTY = "ringtrain.classifier.padded";

  TransformerClassifier(ClassifierConfig config, DataType dataType) {
    this(config, dataType, !Boolean.getBoolean(PADDED_PROPERTY));
  }

  /** A classifier whose token-wise layers run on packed rows ({@code packed}) or on padded ones. */
  TransformerClassifier(ClassifierConfig config, DataType dataType, boolean packed) {
    super(requireArchitecture(config, ClassifierConfig.Architecture.TRANSFORMER, "TransformerClassifier"), layout(config), dataType);
    this.packed = packed;
    this.trunk = new TransformerTrunk(params, config.layers(), config.heads());
    this.headStart = layout.get("head.weight").offset();
    this.trunkStart = layout.get("pos.weight").offset() + layout.get("pos.weight").length();
    this.causalMasks = config.causal() ? new INDArray[config.maxLen() + 1] : null;
  }

  /** The parameter layout of a Transformer classifier of this config. */
  static ParameterLayout layout(ClassifierConfig config) {
    long v = config.vocabSize();
    long c = config.dModel();
    ParameterLayout.Builder b = ParameterLayout.builder("transformer-classifier V=" + v + " T=" + config.maxLen()
        + " C=" + c + " L=" + config.layers() + " NH=" + config.heads() + " K=" + config.numClasses());
    b.add("embed.weight", v, c);
    b.add("pos.weight", config.maxLen(), c);
    TransformerTrunk.addTo(b, config.layers(), c);
    b.add("head.weight", c, config.numClasses()).add("head.bias", config.numClasses());
    return b.build();
  }

  @Override
  TransformerClassifierActivations newActivations(int capacityBatch) {
    return new TransformerClassifierActivations(config, capacityBatch, params.dataType(), packed);
  }

  @Override
  void forwardLogits(int[] tokens, int[] lengths, int batch, int steps) {
    packing = packed ? PackedRows.of(lengths, steps) : null;
    TransformerClassifierActivations a = activations(batch, steps, packed ? packing.rows() : batch * steps);
    TransformerActivations x = a.trunk;
    INDArray wte = params.view("embed.weight");
    INDArray wpe = params.view("pos.weight");
    fillInputs(a, tokens, lengths, causalMasks == null, packing);
    if (packed) {
      drop = drop.packed(packing); // the token-wise masks in packed rows; backward reads this too
      Encoder.forwardPacked(x.encoded, a.tokens, wte, wpe, packing);
    } else {
      Encoder.forward(x.encoded, a.tokens, wte, wpe, batch, steps, 0);
    }
    if (drop.active()) {
      Dropout.forward(x.encoded, x.encoded, drop.embeddings());
    }
    trunk.forward(x, attentionMask(a, steps), drop, packing, batch, steps);
    if (packed) {
      MaskedMeanPool.forwardPacked(a.pooled, x.lnf, a.poolWeights);
    } else {
      MaskedMeanPool.forward(a.pooled, x.lnf, a.poolWeights, batch, steps);
    }
    if (pooledDrop != null) {
      Dropout.forward(a.pooled, a.pooled, pooledDrop); // in place: the head's input is the dropped row
    }
    Linear.forward(a.logits, a.pooled, params.view("head.weight"), params.view("head.bias"));
  }

  /** The key padding mask of the batch, or the causal mask of T' positions. */
  private INDArray attentionMask(TransformerClassifierActivations a, int steps) {
    if (causalMasks == null) {
      return a.mask;
    }
    if (causalMasks[steps] == null) {
      causalMasks[steps] = Attention.causalMask(params.dataType(), steps);
    }
    return causalMasks[steps];
  }

  /**
   * Token ids (padded: the first T' positions of every row; packed: the rows' tokens one after
   * another, slack rows PAD_ID), the key padding mask of the padded layout attention uses (only
   * when attention reads it: not with the causal mask) and the pooling weights.
   *
   * @param rows the packing, or null for the padded layout
   */
  private static void fillInputs(TransformerClassifierActivations a, int[] tokens, int[] lengths, boolean padMask,
      PackedRows rows) {
    int batch = a.batch;
    int steps = a.steps;
    int maxLen = tokens.length / batch;
    DataBuffer ids = a.tokens.data();
    DataBuffer mask = a.mask.data();
    long idBase = Kernels.bufferIndex(a.tokens);
    long maskBase = Kernels.bufferIndex(a.mask);
    for (int b = 0; b < batch; b++) {
      long first = idBase + (rows == null ? (long) b * steps : rows.offset(b));
      int count = rows == null ? steps : lengths[b];
      for (int t = 0; t < count; t++) {
        ids.put(first + t, tokens[b * maxLen + t]);
      }
      for (int t = 0; padMask && t < steps; t++) {
        mask.put(maskBase + (long) b * steps + t, t < lengths[b] ? 0.0 : Attention.MASKED);
      }
    }
    if (rows == null) {
      MaskedMeanPool.fillWeights(a.poolWeights, lengths, steps, false);
      return;
    }
    for (int i = rows.tokens(); i < rows.rows(); i++) {
      ids.put(idBase + i, PAD_ID);
    }
    MaskedMeanPool.fillPackedWeights(a.poolWeights, rows);
  }

  /** The layers in exactly the reverse order of forward. */
  @Override
  void backwardFromLabels(int[] labels, GradientListener ready) {
    TransformerClassifierActivations a = acts;
    TransformerActivations x = a.trunk;
    int batch = a.batch;
    int steps = a.steps;
    SoftmaxCrossEntropy.backward(a.dlogits, a.probs, labels, -1, 1.0);
    Linear.backward(a.dpooled, grads.view("head.weight"), grads.view("head.bias"), a.dlogits, a.pooled,
        params.view("head.weight"), a.ones);
    ready.ready(headStart, layout.totalElements());
    if (pooledDrop != null) {
      Dropout.backward(a.dpooled, a.dpooled, pooledDrop);
    }
    if (packed) {
      MaskedMeanPool.backwardPacked(x.scratch.dln, a.dpooled, a.poolWeights);
    } else {
      MaskedMeanPool.backward(x.scratch.dln, a.dpooled, a.poolWeights, batch, steps);
    }
    trunk.backward(grads, x, attentionMask(a, steps), drop, packing, ready, batch, steps);
    if (drop.active()) {
      Dropout.backward(x.dresidual, x.dresidual, drop.embeddings());
    }
    if (packed) {
      Encoder.backwardPacked(grads.view("embed.weight"), grads.view("pos.weight"), x.dresidual, a.tokens, packing);
    } else {
      Encoder.backward(grads.view("embed.weight"), grads.view("pos.weight"), x.dresidual, a.tokens, a.ones,
          batch, steps);
    }
    ready.ready(0, trunkStart);
  }
}
