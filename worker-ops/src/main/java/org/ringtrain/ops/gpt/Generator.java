/*
 * Generator: autoregressive decoding of a GptModel with a KV cache, one token per sequence per
 * step, with greedy, temperature or top-k sampling. It does not train and does not tokenize text.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.layers.CachedAttention;
import org.ringtrain.ops.layers.Encoder;
import org.ringtrain.ops.layers.Gelu;
import org.ringtrain.ops.layers.LayerNorm;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.Residual;
import org.ringtrain.ops.layers.TiedLmHead;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.SplitMix64;
import org.ringtrain.ops.transformer.BlockTensors;

/**
 * Runs the model's layers on [B, C] rows for one new position at a time, reading the model's
 * current parameters. {@link #step} gives the same logits as a full forward over the whole prefix
 * (up to float rounding) at a cost linear, not quadratic, in the prefix length.
 */
public final class Generator implements AutoCloseable {

  private final GptModel model;
  private final ModelConfig config;
  private final int batch;
  private final KvCache cache;

  private final INDArray tokens; // [B] int32
  private final INDArray x; // [B, C] residual stream
  private final INDArray ln; // [B, C]
  private final INDArray mean; // [B]
  private final INDArray rstd; // [B]
  private final INDArray qkv; // [B, 3C]
  private final INDArray atty; // [B, C]
  private final INDArray proj; // [B, C]
  private final INDArray fch; // [B, 4C]
  private final INDArray fchGelu; // [B, 4C]
  private final INDArray fchSig; // [B, 4C]
  private final INDArray logits; // [B, V]
  private final INDArray qh; // [B, NH, 1, HS]
  private final INDArray yh; // [B, NH, 1, HS]
  private final INDArray scores; // [B, NH, 1, maxT]

  /** A generator for {@code batch} sequences decoded in lockstep. */
  public Generator(GptModel model, int batch) {
    if (batch <= 0) {
      throw new IllegalArgumentException("batch must be > 0, but found " + batch);
    }
    this.model = model;
    this.config = model.config();
    this.batch = batch;
    DataType type = model.params().dataType();
    long c = config.dModel();
    long nh = config.heads();
    long hs = config.headSize();
    cache = new KvCache(config, batch, type);
    tokens = Nd4j.create(DataType.INT32, batch);
    x = Nd4j.create(type, batch, c);
    ln = Nd4j.create(type, batch, c);
    mean = Nd4j.create(type, batch);
    rstd = Nd4j.create(type, batch);
    qkv = Nd4j.create(type, batch, 3 * c);
    atty = Nd4j.create(type, batch, c);
    proj = Nd4j.create(type, batch, c);
    fch = Nd4j.create(type, batch, 4 * c);
    fchGelu = Nd4j.create(type, batch, 4 * c);
    fchSig = Nd4j.create(type, batch, 4 * c);
    logits = Nd4j.create(type, batch, config.vocabSize());
    qh = Nd4j.create(type, batch, nh, 1, hs);
    yh = Nd4j.create(type, batch, nh, 1, hs);
    scores = Nd4j.create(type, batch, nh, 1, config.contextLength());
  }

  /** Positions decoded so far. */
  public int position() {
    return cache.length();
  }

  /** Starts over with an empty cache. */
  public void reset() {
    cache.reset();
  }

  /**
   * Feeds one token per sequence at the next position and returns the logits for the position
   * after it.
   *
   * @param next B token ids in [0, V)
   * @return logits [B, V], a view valid until the next step
   */
  public INDArray step(int[] next) {
    if (next.length != batch) {
      throw new IllegalArgumentException("step needs one token per sequence, " + batch + ", but found " + next.length);
    }
    for (int i = 0; i < next.length; i++) {
      if (next[i] < 0 || next[i] >= config.vocabSize()) {
        throw new IllegalArgumentException("token ids must be in [0, " + config.vocabSize() + "), but found "
            + next[i] + " for sequence " + i);
      }
    }
    int pos = cache.advance();
    CachedAttention.openSlot(cache.maskRow, pos);
    ParameterBuffer p = model.params();
    tokens.data().setData(next);
    Encoder.forward(x, tokens, p.view("wte.weight"), p.view("wpe.weight"), batch, 1, pos);
    BlockTensors[] blocks = model.blocks();
    for (int l = 0; l < config.layers(); l++) {
      BlockTensors w = blocks[l];
      LayerNorm.forward(ln, mean, rstd, x, w.ln1w(), w.ln1b());
      Linear.forward(qkv, ln, w.qkvW(), w.qkvB());
      CachedAttention.forward(atty, cache.keys[l], cache.values[l], qh, scores, yh, qkv, cache.maskRow, pos,
          batch, config.heads());
      Linear.forward(proj, atty, w.attProjW(), w.attProjB());
      Residual.forward(x, x, proj);
      LayerNorm.forward(ln, mean, rstd, x, w.ln2w(), w.ln2b());
      Linear.forward(fch, ln, w.fcW(), w.fcB());
      Gelu.forward(fchGelu, fchSig, fch);
      Linear.forward(proj, fchGelu, w.fcProjW(), w.fcProjB());
      Residual.forward(x, x, proj);
    }
    LayerNorm.forward(ln, mean, rstd, x, p.view("ln_f.weight"), p.view("ln_f.bias"));
    TiedLmHead.forward(logits, ln, p.view("wte.weight"));
    return logits;
  }

  /**
   * Decodes {@code maxNewTokens} tokens after each prompt, starting from an empty cache.
   *
   * @param prompts      B prompts of equal length >= 1
   * @param maxNewTokens how many tokens to add; prompt length + maxNewTokens must not exceed the context length
   * @param sampling     the picking rule
   * @param seed         seed of the sampling generator (unused when greedy)
   * @return the new tokens, [B][maxNewTokens]
   */
  public int[][] generate(int[][] prompts, int maxNewTokens, Sampling sampling, long seed) {
    if (prompts.length != batch || prompts[0].length == 0) {
      throw new IllegalArgumentException("generate needs " + batch + " non-empty prompts, but found "
          + prompts.length + (prompts.length > 0 ? " of length " + prompts[0].length : ""));
    }
    int promptLength = prompts[0].length;
    if (promptLength + maxNewTokens > config.contextLength()) {
      throw new IllegalArgumentException("prompt length + maxNewTokens must be <= contextLength "
          + config.contextLength() + ", but found " + promptLength + " + " + maxNewTokens
          + "; shorten the prompt or ask for fewer tokens");
    }
    reset();
    SplitMix64 rng = new SplitMix64(seed);
    int[] column = new int[batch];
    INDArray last = null;
    for (int t = 0; t < promptLength; t++) {
      for (int b = 0; b < batch; b++) {
        if (prompts[b].length != promptLength) {
          throw new IllegalArgumentException("all prompts must have length " + promptLength + ", but prompt " + b
              + " has " + prompts[b].length);
        }
        column[b] = prompts[b][t];
      }
      last = step(column);
    }
    int[][] out = new int[batch][maxNewTokens];
    for (int n = 0; n < maxNewTokens; n++) {
      for (int b = 0; b < batch; b++) {
        column[b] = sampling.pick(last.getRow(b).toDoubleVector(), rng);
        out[b][n] = column[b];
      }
      if (n + 1 < maxNewTokens) {
        last = step(column);
      }
    }
    return out;
  }

  @Override
  public void close() {
    cache.close();
    for (INDArray a : new INDArray[] {tokens, x, ln, mean, rstd, qkv, atty, proj, fch, fchGelu, fchSig, logits, qh, yh,
        scores}) {
      a.close();
    }
  }
}
