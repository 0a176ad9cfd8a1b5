/*
 * DecodeBuffers: the activations of one decoding step over n rows (one new position per row) and
 * the layers that run on all n rows at once around attention, the part the lockstep Generator and
 * the continuous-batching BatchDecoder share. Attention is the caller's (each keeps its caches
 * its own way); this class owns no cache, embeds no token and samples nothing.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.layers.Gelu;
import org.ringtrain.ops.layers.LayerNorm;
import org.ringtrain.ops.layers.Residual;
import org.ringtrain.ops.transformer.BlockTensors;

/**
 * Allocated once per row count and reused by every step: a step allocates no activation.
 * {@link #forward} runs the blocks on the embedded {@link #x} and leaves the logits in
 * {@link #logits}; attention reads {@link #qkv} and writes {@link #atty}.
 */
final class DecodeBuffers implements AutoCloseable {

  /** One block's attention of the step: {@code atty = attention(qkv)} over each row's cache. */
  interface AttentionStep {
    void attend(int layer);
  }

  final int rows;
  final INDArray x; // [n, C] residual stream; the caller embeds into it
  final INDArray ln; // [n, C]
  final INDArray mean; // [n]
  final INDArray rstd; // [n]
  final INDArray qkv; // [n, 3C]
  final INDArray atty; // [n, C]
  final INDArray proj; // [n, C]
  final INDArray fch; // [n, 4C]
  final INDArray fchGelu; // [n, 4C]
  final INDArray fchSig; // [n, 4C]
  final INDArray logits; // [n, V]
  private INDArray[] qkvRows; // n x [1, 3C] views of qkv, made on first use
  private INDArray[] attyRows; // n x [1, C] views of atty, made on first use

  DecodeBuffers(ModelConfig config, int rows, DataType type) {
    long c = config.dModel();
    this.rows = rows;
    x = Nd4j.create(type, rows, c);
    ln = Nd4j.create(type, rows, c);
    mean = Nd4j.create(type, rows);
    rstd = Nd4j.create(type, rows);
    qkv = Nd4j.create(type, rows, 3 * c);
    atty = Nd4j.create(type, rows, c);
    proj = Nd4j.create(type, rows, c);
    fch = Nd4j.create(type, rows, 4 * c);
    fchGelu = Nd4j.create(type, rows, 4 * c);
    fchSig = Nd4j.create(type, rows, 4 * c);
    logits = Nd4j.create(type, rows, config.vocabSize());
  }

  /**
   * Per block, the names {@link GptWeights} reads: ln_1.weight, ln_1.bias, the attention's c_attn
   * and c_proj layers, ln_2.weight, ln_2.bias, the MLP's c_fc and c_proj layers.
   */
  static String[][] blockNames(ModelConfig config) {
    String[][] names = new String[config.layers()][];
    for (int l = 0; l < config.layers(); l++) {
      String p = BlockTensors.prefix(l);
      names[l] = new String[] {p + "ln_1.weight", p + "ln_1.bias", p + "attn.c_attn", p + "attn.c_proj",
          p + "ln_2.weight", p + "ln_2.bias", p + "mlp.c_fc", p + "mlp.c_proj"};
    }
    return names;
  }

  /**
   * The blocks, the final LayerNorm and the LM head on the embedded {@link #x}, every layer on all
   * rows at once except attention, which {@code attention} does per block.
   *
   * @param names {@link #blockNames} of the weights' config
   * @return {@link #logits} [n, V]
   */
  INDArray forward(GptWeights weights, String[][] names, AttentionStep attention) {
    for (int l = 0; l < names.length; l++) {
      String[] w = names[l];
      LayerNorm.forward(ln, mean, rstd, x, weights.norm(w[0]), weights.norm(w[1]));
      weights.linear(qkv, ln, w[2]);
      attention.attend(l);
      weights.linear(proj, atty, w[3]);
      Residual.forward(x, x, proj);
      LayerNorm.forward(ln, mean, rstd, x, weights.norm(w[4]), weights.norm(w[5]));
      weights.linear(fch, ln, w[6]);
      Gelu.forward(fchGelu, fchSig, fch);
      weights.linear(proj, fchGelu, w[7]);
      Residual.forward(x, x, proj);
    }
    LayerNorm.forward(ln, mean, rstd, x, weights.norm("ln_f.weight"), weights.norm("ln_f.bias"));
    weights.lmHead(logits, ln);
    return logits;
  }

  /** Row i of {@link #qkv}, [1, 3C] (for attention row by row on the ND4J path). */
  INDArray qkvRow(int i) {
    if (qkvRows == null) {
      qkvRows = rowViews(qkv);
    }
    return qkvRows[i];
  }

  /** Row i of {@link #atty}, [1, C]. */
  INDArray attyRow(int i) {
    if (attyRows == null) {
      attyRows = rowViews(atty);
    }
    return attyRows[i];
  }

  private INDArray[] rowViews(INDArray a) {
    INDArray[] views = new INDArray[rows];
    for (int i = 0; i < rows; i++) {
      views[i] = a.get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all());
    }
    return views;
  }

  @Override
  public void close() {
    for (INDArray a : new INDArray[] {x, ln, mean, rstd, qkv, atty, proj, fch, fchGelu, fchSig, logits}) {
      a.close();
    }
  }
}
