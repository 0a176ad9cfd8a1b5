/*
 * TransformerClassifier: a bidirectional pre-LayerNorm Transformer encoder over padded token rows,
 * masked mean pooling and a linear head, with an explicit backward pass on the flat buffers. It
 * reuses the GPT layers (Encoder, LayerNorm, Linear, Attention, Gelu); it has no [CLS] token, no
 * dropout and no segment embeddings.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.layers.Attention;
import org.ringtrain.ops.layers.Encoder;
import org.ringtrain.ops.layers.Gelu;
import org.ringtrain.ops.layers.LayerNorm;
import org.ringtrain.ops.layers.Kernels;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.Residual;
import org.ringtrain.ops.layers.SoftmaxCrossEntropy;
import org.ringtrain.ops.model.BlockTensors;
import org.ringtrain.ops.model.GradientListener;
import org.ringtrain.ops.model.ParameterLayout;

/**
 * Token + learned position embedding, L blocks {@code x += proj(attn(LN(x))); x += mlp(LN(x))}
 * with GPT-2's block tensors but attention over all non-padding positions of the row (a key
 * padding mask instead of the causal mask), a final LayerNorm, the mean over the row's
 * non-padding positions, and {@code logits = pooled @ head.weight + head.bias}.
 *
 * <p>Layout (forward-use order): {@code embed.weight [V, C]}, {@code pos.weight [maxLen, C]},
 * {@code h.i.*} as in {@link ParameterLayout} (ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc,
 * mlp.c_proj), {@code ln_f.weight/bias [C]}, {@code head.weight [C, K]}, {@code head.bias [K]}.
 *
 * <p>Padding: padded keys get {@link Attention#MASKED} added to their scores, so their attention
 * weight is exactly 0; padded query rows attend to the row's tokens (finite values) and have pooling
 * weight 0, so nothing of a padded position reaches the output and its gradient is exactly 0.
 * Positions past the batch's longest row are not computed at all.
 *
 * <p>Cost: {@link ClassifierConfig#trainingFlopsPerToken()}, about {@code 72 L C^2 + 12 L T C}
 * training FLOPs per token.
 */
final class TransformerClassifier extends AbstractClassifier<TransformerActivations> {

  private final BlockTensors[] blocks;
  private BlockTensors[] gradBlocks;

  TransformerClassifier(ClassifierConfig config, DataType dataType) {
    super(requireArchitecture(config, ClassifierConfig.Architecture.TRANSFORMER, "TransformerClassifier"), layout(config), dataType);
    this.blocks = new BlockTensors[config.layers()];
    for (int l = 0; l < blocks.length; l++) {
      blocks[l] = BlockTensors.of(params, l);
    }
  }

  /** The parameter layout of a Transformer classifier of this config. */
  static ParameterLayout layout(ClassifierConfig config) {
    long v = config.vocabSize();
    long c = config.dModel();
    ParameterLayout.Builder b = ParameterLayout.builder("transformer-classifier V=" + v + " T=" + config.maxLen()
        + " C=" + c + " L=" + config.layers() + " NH=" + config.heads() + " K=" + config.numClasses());
    b.add("embed.weight", v, c);
    b.add("pos.weight", config.maxLen(), c);
    for (int l = 0; l < config.layers(); l++) {
      String p = ParameterLayout.blockPrefix(l);
      b.add(p + "ln_1.weight", c).add(p + "ln_1.bias", c);
      b.add(p + "attn.c_attn.weight", c, 3 * c).add(p + "attn.c_attn.bias", 3 * c);
      b.add(p + "attn.c_proj.weight", c, c).add(p + "attn.c_proj.bias", c);
      b.add(p + "ln_2.weight", c).add(p + "ln_2.bias", c);
      b.add(p + "mlp.c_fc.weight", c, 4 * c).add(p + "mlp.c_fc.bias", 4 * c);
      b.add(p + "mlp.c_proj.weight", 4 * c, c).add(p + "mlp.c_proj.bias", c);
    }
    b.add("ln_f.weight", c).add("ln_f.bias", c);
    b.add("head.weight", c, config.numClasses()).add("head.bias", config.numClasses());
    return b.build();
  }

  @Override
  TransformerActivations newActivations(int capacityBatch) {
    return new TransformerActivations(config, capacityBatch, params.dataType());
  }

  @Override
  void forwardLogits(int[] tokens, int[] lengths, int batch, int steps) {
    TransformerActivations a = activations(batch, steps);
    fillInputs(a, tokens, lengths);
    int nh = config.heads();
    Encoder.forward(a.encoded, a.tokens, params.view("embed.weight"), params.view("pos.weight"), batch, steps, 0);
    for (int l = 0; l < config.layers(); l++) {
      BlockTensors w = blocks[l];
      INDArray inp = l == 0 ? a.encoded : a.residual3[l - 1]; // [B*T', C]
      LayerNorm.forward(a.ln1[l], a.ln1Mean[l], a.ln1Rstd[l], inp, w.ln1w(), w.ln1b());
      Linear.forward(a.qkv, a.ln1[l], w.qkvW(), w.qkvB());
      Attention.forward(a.atty[l], a.qkvh[l], a.att[l], a.yh, a.qkv, a.mask, batch, steps, nh);
      Linear.forward(a.proj, a.atty[l], w.attProjW(), w.attProjB());
      Residual.forward(a.residual2[l], inp, a.proj);
      LayerNorm.forward(a.ln2[l], a.ln2Mean[l], a.ln2Rstd[l], a.residual2[l], w.ln2w(), w.ln2b());
      Linear.forward(a.fch[l], a.ln2[l], w.fcW(), w.fcB());
      Gelu.forward(a.fchGelu, a.fchSig[l], a.fch[l]);
      Linear.forward(a.proj, a.fchGelu, w.fcProjW(), w.fcProjB());
      Residual.forward(a.residual3[l], a.residual2[l], a.proj);
    }
    LayerNorm.forward(a.lnf, a.lnfMean, a.lnfRstd, a.residual3[config.layers() - 1],
        params.view("ln_f.weight"), params.view("ln_f.bias"));
    MaskedMeanPool.forward(a.pooled, a.lnf, a.poolWeights, batch, steps);
    Linear.forward(a.logits, a.pooled, params.view("head.weight"), params.view("head.bias"));
  }

  /** Token ids of the first T' positions, the key padding mask and the pooling weights. */
  private static void fillInputs(TransformerActivations a, int[] tokens, int[] lengths) {
    int batch = a.batch;
    int steps = a.steps;
    int maxLen = tokens.length / batch;
    DataBuffer ids = a.tokens.data();
    DataBuffer mask = a.mask.data();
    long idBase = Kernels.bufferIndex(a.tokens);
    long maskBase = Kernels.bufferIndex(a.mask);
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < steps; t++) {
        ids.put(idBase + (long) b * steps + t, tokens[b * maxLen + t]);
        mask.put(maskBase + (long) b * steps + t, t < lengths[b] ? 0.0 : Attention.MASKED);
      }
    }
    MaskedMeanPool.fillWeights(a.poolWeights, lengths, steps, false);
  }

  /**
   * The layers in exactly the reverse order of forward. As in GptModel, the residual stream's
   * gradient lives in one buffer ({@code dresidual}) that both branches of a block read and add
   * their input gradient into, so Residual.backward is not called.
   */
  @Override
  void backwardFromLabels(int[] labels, GradientListener ready) {
    if (gradBlocks == null) {
      gradBlocks = new BlockTensors[config.layers()];
      for (int l = 0; l < gradBlocks.length; l++) {
        gradBlocks[l] = BlockTensors.of(grads, l);
      }
    }
    TransformerActivations a = acts;
    int batch = a.batch;
    int steps = a.steps;
    int nh = config.heads();
    long end = layout.totalElements();
    SoftmaxCrossEntropy.backward(a.dlogits, a.probs, labels, -1, 1.0);
    Linear.backward(a.dpooled, grads.view("head.weight"), grads.view("head.bias"), a.dlogits, a.pooled,
        params.view("head.weight"), a.ones);
    long headStart = layout.get("head.weight").offset();
    ready.ready(headStart, end);
    MaskedMeanPool.backward(a.dln, a.dpooled, a.poolWeights, batch, steps);
    a.dresidual.assign(0); // LayerNorm.backward adds into it: the only activation gradient zeroed
    LayerNorm.backward(a.dresidual, grads.view("ln_f.weight"), grads.view("ln_f.bias"), a.dln,
        a.residual3[config.layers() - 1], params.view("ln_f.weight"), a.lnfMean, a.lnfRstd,
        a.lnXhat, a.lnTmp, a.rowTmp, a.ones);
    long blockEnd = layout.get("ln_f.weight").offset();
    ready.ready(blockEnd, headStart);
    for (int l = config.layers() - 1; l >= 0; l--) {
      BlockTensors w = blocks[l];
      BlockTensors g = gradBlocks[l];
      INDArray inp = l == 0 ? a.encoded : a.residual3[l - 1]; // [B*T', C]
      a.fch[l].mul(a.fchSig[l], a.fchGelu); // the GELU output, cheaper to recompute than to keep
      Linear.backward(a.dfchGelu, g.fcProjW(), g.fcProjB(), a.dresidual, a.fchGelu, w.fcProjW(), a.ones);
      Gelu.backward(a.dfch, a.dfchGelu, a.fch[l], a.fchSig[l], a.fchGelu);
      Linear.backward(a.dln, g.fcW(), g.fcB(), a.dfch, a.ln2[l], w.fcW(), a.ones);
      LayerNorm.backward(a.dresidual, g.ln2w(), g.ln2b(), a.dln, a.residual2[l], w.ln2w(),
          a.ln2Mean[l], a.ln2Rstd[l], a.lnXhat, a.lnTmp, a.rowTmp, a.ones);
      Linear.backward(a.datty, g.attProjW(), g.attProjB(), a.dresidual, a.atty[l], w.attProjW(), a.ones);
      Attention.backward(a.dqkv, a.datty, a.qkvh[l], a.att[l], a.dyh, a.datt, a.attTmp, a.rowSum, a.dqkvh,
          batch, steps, nh);
      Linear.backward(a.dln, g.qkvW(), g.qkvB(), a.dqkv, a.ln1[l], w.qkvW(), a.ones);
      LayerNorm.backward(a.dresidual, g.ln1w(), g.ln1b(), a.dln, inp, w.ln1w(),
          a.ln1Mean[l], a.ln1Rstd[l], a.lnXhat, a.lnTmp, a.rowTmp, a.ones);
      long blockStart = layout.get(ParameterLayout.blockPrefix(l) + "ln_1.weight").offset();
      ready.ready(blockStart, blockEnd);
      blockEnd = blockStart;
    }
    Encoder.backward(grads.view("embed.weight"), grads.view("pos.weight"), a.dresidual, a.tokens, a.ones,
        batch, steps);
    ready.ready(0, blockEnd);
  }
}
