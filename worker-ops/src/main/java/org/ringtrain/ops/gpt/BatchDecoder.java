/*
 * BatchDecoder: BatchDecoding on any GptWeights (a GptModel's float32 parameters, or an int8
 * quantised model's matrices) - one decoding step for up to maxBatch sequences at different
 * positions. Embeddings, matmuls and the other layers run on all rows at once, and so does
 * attention in float32 (one DecodeAttentionKernel call per block, each row against its own slot's
 * cache); float64 attends row by row through CachedAttention. It does not sample.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.kernels.DecodeAttentionKernel;
import org.ringtrain.ops.layers.CachedAttention;

/**
 * Continuous batching's step: rows join and leave between steps, so activations are kept per row
 * count n (allocated the first time n occurs) and every row carries its own position. A step
 * allocates no array. Not thread-safe: one thread steps it.
 */
public final class BatchDecoder implements BatchDecoding {
  private final GptWeights weights;
  private final ModelConfig config;
  private final String[][] names; // per block: see DecodeBuffers.blockNames
  private final int maxBatch;
  private final DataType type;
  private final DecodeBuffers[] rows; // rows[n] for n rows, made on first use
  private final DecodeBuffers.AttentionStep attention = this::attend;
  private final int[] positions; // [maxBatch] this step's position of each row
  private final DecodeSlot[] stepSlots; // [maxBatch] this step's slot of each row
  private final DecodeAttentionKernel.Cache[][] stepCaches; // [L][maxBatch] this step's rows' kernel caches
  private DecodeBuffers step; // this step's activations
  private int stepRows;
  private boolean stepFused;
  private INDArray qh; // [1, NH, 1, HS] ND4J path only, made on first use
  private INDArray yh; // [1, NH, 1, HS] ND4J path only

  /**
   * A decoder over {@code model}'s current parameters, in the model's data type; the caller keeps
   * and closes the model.
   *
   * @param maxBatch most rows per step, >= 1
   */
  public BatchDecoder(GptModel model, int maxBatch) {
    this(new FloatGptWeights(model), maxBatch, model.params().dataType());
  }

  /**
   * A float32 decoder over {@code weights} (e.g. an int8 model's), which it owns from now on:
   * {@link #close} closes them.
   *
   * @param maxBatch most rows per step, >= 1
   */
  public BatchDecoder(GptWeights weights, int maxBatch) {
    this(weights, maxBatch, DataType.FLOAT);
  }

  private BatchDecoder(GptWeights weights, int maxBatch, DataType type) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be >= 1, but found " + maxBatch);
    }
    this.weights = weights;
    this.config = weights.config();
    this.maxBatch = maxBatch;
    this.type = type;
    this.names = DecodeBuffers.blockNames(config);
    this.rows = new DecodeBuffers[maxBatch + 1];
    this.positions = new int[maxBatch];
    this.stepSlots = new DecodeSlot[maxBatch];
    this.stepCaches = new DecodeAttentionKernel.Cache[config.layers()][maxBatch];
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public int maxBatch() {
    return maxBatch;
  }

  @Override
  public DecodeSlot newSlot(int capacity) {
    return new DecodeSlot(config, capacity, type);
  }

  @Override
  public INDArray step(int[] tokens, DecodeSlot[] slots, int n) {
    if (n < 1 || n > maxBatch || tokens.length < n || slots.length < n) {
      throw new IllegalArgumentException("step needs 1 to " + maxBatch + " rows with a token and a slot each, but found n "
          + n + ", " + tokens.length + " tokens, " + slots.length + " slots");
    }
    for (int i = 0; i < n; i++) {
      if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
        throw new IllegalArgumentException("token ids must be in [0, " + config.vocabSize() + "), but found "
            + tokens[i] + " for row " + i);
      }
      for (int j = 0; j < i; j++) {
        if (slots[j] == slots[i]) {
          throw new IllegalArgumentException("each row of a step needs its own slot, but rows " + j + " and " + i
              + " share one; feed a sequence one token per step");
        }
      }
    }
    step = rows[n] != null ? rows[n] : (rows[n] = new DecodeBuffers(config, n, type));
    stepRows = n;
    stepFused = DecodeAttentionKernel.accepts(step.qkv, step.atty);
    for (int i = 0; i < n; i++) {
      KvCache cache = slots[i].cache;
      stepFused &= cache.fused != null;
      positions[i] = cache.advance();
      stepSlots[i] = slots[i];
    }
    for (int i = 0; i < n; i++) {
      KvCache cache = slots[i].cache;
      if (stepFused) {
        for (int l = 0; l < config.layers(); l++) {
          stepCaches[l][i] = cache.fused[l][0];
        }
      } else {
        CachedAttention.openSlot(cache.maskRow, positions[i]);
      }
    }
    // Row i's input: its token's embedding plus its own position's.
    weights.embedRows(step.x, tokens, positions, n);
    return step.forward(weights, names, attention);
  }

  /**
   * Block {@code layer}'s attention: every row against its own slot in one kernel call (float32),
   * else row by row through CachedAttention.
   */
  private void attend(int layer) {
    if (stepFused) {
      DecodeAttentionKernel.forward(step.atty, step.qkv, stepCaches[layer], positions, stepRows, config.heads());
      return;
    }
    if (qh == null) {
      qh = Nd4j.create(type, 1, config.heads(), 1, config.headSize());
      yh = Nd4j.create(type, 1, config.heads(), 1, config.headSize());
    }
    for (int i = 0; i < stepRows; i++) {
      KvCache cache = stepSlots[i].cache;
      CachedAttention.forward(step.attyRow(i), cache.keys[layer], cache.values[layer], qh, stepSlots[i].scores(), yh,
          step.qkvRow(i), cache.maskRow, positions[i], 1, config.heads());
    }
  }

  /** Releases the activations and the weights (a model's float32 views own nothing). */
  @Override
  public void close() {
    for (DecodeBuffers r : rows) {
      if (r != null) {
        r.close();
      }
    }
    if (qh != null) {
      qh.close();
      yh.close();
    }
    weights.close();
  }
}
