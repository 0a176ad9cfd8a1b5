/*
 * Generator: autoregressive decoding of a GPT with a KV cache, one token per sequence per step,
 * with greedy, temperature or top-k sampling, and the loss of whole sequences decoded that way. It
 * runs on any GptWeights (a GptModel's float32 parameters, or an int8 quantised model). It does
 * not train and does not tokenize text.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.ringtrain.ops.kernels.DecodeAttentionKernel;
import org.ringtrain.ops.layers.CachedAttention;
import org.ringtrain.ops.param.SplitMix64;

/**
 * Runs the model's layers on [B, C] rows for one new position at a time, reading the weights at
 * each step (a GptModel's current parameters, through {@link FloatGptWeights}). {@link #step}
 * gives the same logits as a full forward over the whole prefix (up to float rounding) at a cost
 * linear, not quadratic, in the prefix length. A float32 step's attention is the fused
 * DecodeAttentionKernel, the same code as BatchDecoder's, so a sequence decoded here and one
 * decoded alone by a BatchDecoder get the same bits.
 */
public final class Generator implements AutoCloseable {

  private final GptWeights weights;
  private final ModelConfig config;
  private final String[][] names; // per block: see DecodeBuffers.blockNames
  private final int batch;
  private final KvCache cache;
  private final DecodeBuffers buffers; // [B, .] activations
  private final DecodeBuffers.AttentionStep attention = this::attend;
  private final INDArray tokens; // [B] int32
  private final int[] positions; // [B] this step's position, the same for every row (lockstep)
  private final boolean fused; // float32 with the Vector API: DecodeAttentionKernel, else CachedAttention
  private INDArray qh; // [B, NH, 1, HS] ND4J path only, made on first use
  private INDArray yh; // [B, NH, 1, HS] ND4J path only
  private INDArray scores; // [B, NH, 1, maxT] ND4J path only

  /** A generator for {@code batch} sequences of {@code model} decoded in lockstep, in the model's data type. */
  public Generator(GptModel model, int batch) {
    this(new FloatGptWeights(model), batch, model.params().dataType());
  }

  /**
   * A float32 generator for {@code batch} sequences decoded in lockstep on {@code weights}, which
   * the caller keeps and closes.
   */
  public Generator(GptWeights weights, int batch) {
    this(weights, batch, DataType.FLOAT);
  }

  private Generator(GptWeights weights, int batch, DataType type) {
    if (batch <= 0) {
      throw new IllegalArgumentException("batch must be > 0, but found " + batch);
    }
    this.weights = weights;
    this.config = weights.config();
    this.batch = batch;
    this.names = DecodeBuffers.blockNames(config);
    cache = new KvCache(config, batch, type);
    buffers = new DecodeBuffers(config, batch, type);
    tokens = Nd4j.create(DataType.INT32, batch);
    positions = new int[batch];
    fused = cache.fused != null && DecodeAttentionKernel.accepts(buffers.qkv, buffers.atty);
  }

  /** The shape of the model it decodes. */
  public ModelConfig config() {
    return config;
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
    Arrays.fill(positions, pos);
    if (!fused) {
      CachedAttention.openSlot(cache.maskRow, pos);
    }
    tokens.data().setData(next);
    weights.embed(buffers.x, tokens, batch, pos);
    return buffers.forward(weights, names, attention);
  }

  /**
   * Block {@code layer}'s attention for every sequence: the fused kernel over each row's cache
   * (float32), else one batched ND4J CachedAttention over the whole cache.
   */
  private void attend(int layer) {
    if (fused) {
      DecodeAttentionKernel.forward(buffers.atty, buffers.qkv, cache.fused[layer], positions, batch, config.heads());
      return;
    }
    if (scores == null) {
      DataType type = buffers.x.dataType();
      qh = Nd4j.create(type, batch, config.heads(), 1, config.headSize());
      yh = Nd4j.create(type, batch, config.heads(), 1, config.headSize());
      scores = Nd4j.create(type, batch, config.heads(), 1, config.contextLength());
    }
    CachedAttention.forward(buffers.atty, cache.keys[layer], cache.values[layer], qh, scores, yh, buffers.qkv,
        cache.maskRow, positions[0], batch, config.heads());
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

  /**
   * The summed cross-entropy of {@code batch} sequences decoded position by position from an
   * empty cache: at each position t the logits after {@code inputs[., t]} score {@code targets[., t]}.
   * Equal to a full forward's loss times B*T up to float rounding; it runs on any
   * {@link GptWeights}, so it also evaluates a quantised model. The cache is left full.
   *
   * @param inputs  B*T token ids, row-major [B, T]
   * @param targets B*T target ids in [0, V)
   * @param seqLen  T, at most the context length
   * @return the sum over all B*T positions of -log softmax(logits)[target]
   */
  public double lossSum(int[] inputs, int[] targets, int seqLen) {
    if (inputs.length != batch * seqLen || targets.length != inputs.length || seqLen > config.contextLength()) {
      throw new IllegalArgumentException("lossSum needs " + batch + " x T inputs and targets with T <= "
          + config.contextLength() + ", but found " + inputs.length + " inputs, " + targets.length
          + " targets for T " + seqLen + "; cut sequences to the context length");
    }
    reset();
    int v = config.vocabSize();
    int[] column = new int[batch];
    float[] row = new float[v];
    double sum = 0;
    for (int t = 0; t < seqLen; t++) {
      for (int b = 0; b < batch; b++) {
        column[b] = inputs[b * seqLen + t];
      }
      FloatBuffer all = step(column).data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
      for (int b = 0; b < batch; b++) {
        int target = targets[b * seqLen + t];
        if (target < 0 || target >= v) {
          throw new IllegalArgumentException("targets must be in [0, " + v + "), but found " + target
              + " at sequence " + b + ", position " + t);
        }
        all.position(b * v);
        all.get(row, 0, v);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) {
          max = Math.max(max, row[i]);
        }
        double z = 0;
        for (int i = 0; i < v; i++) {
          z += Math.exp(row[i] - max);
        }
        sum += max + Math.log(z) - row[target];
      }
    }
    return sum;
  }

  @Override
  public void close() {
    cache.close();
    buffers.close();
    tokens.close();
    for (INDArray a : new INDArray[] {qh, yh, scores}) {
      if (a != null) {
        a.close();
      }
    }
  }
}
