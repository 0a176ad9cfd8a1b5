/*
 * BatchDecoder: BatchDecoding on any GptWeights (a GptModel's float32 parameters, or an int8
 * quantised model's matrices) - one decoding step for up to maxBatch sequences at different
 * positions. Embeddings, matmuls and the other layers run on all rows at once; attention runs row
 * by row, each against its own slot. It does not sample.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.layers.CachedAttention;
import org.ringtrain.ops.layers.Gelu;
import org.ringtrain.ops.layers.LayerNorm;
import org.ringtrain.ops.layers.Residual;
import org.ringtrain.ops.transformer.BlockTensors;

/**
 * Continuous batching's step: rows join and leave between steps, so activations are kept per row
 * count n (allocated the first time n occurs) and every row carries its own position. Not
 * thread-safe: one thread steps it.
 */
public final class BatchDecoder implements BatchDecoding {
  private final GptWeights weights;
  private final ModelConfig config;
  private final String[][] names; // per block: as in the Generator
  private final int maxBatch;
  private final DataType type;
  private final Rows[] rows; // rows[n] for n rows, made on first use
  private final INDArray qh; // [1, NH, 1, HS]
  private final INDArray yh; // [1, NH, 1, HS]

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
    this.names = Generator.blockNames(config);
    this.rows = new Rows[maxBatch + 1];
    qh = Nd4j.create(type, 1, config.heads(), 1, config.headSize());
    yh = Nd4j.create(type, 1, config.heads(), 1, config.headSize());
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
    Rows r = rows[n] != null ? rows[n] : (rows[n] = new Rows(n));
    int[] positions = new int[n];
    for (int i = 0; i < n; i++) {
      if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
        throw new IllegalArgumentException("token ids must be in [0, " + config.vocabSize() + "), but found "
            + tokens[i] + " for row " + i);
      }
      positions[i] = slots[i].cache.advance();
      CachedAttention.openSlot(slots[i].cache.maskRow, positions[i]);
    }
    // Row i's input: its token's embedding plus its own position's.
    weights.embedRows(r.x, tokens, positions, n);
    for (int l = 0; l < config.layers(); l++) {
      String[] w = names[l];
      LayerNorm.forward(r.ln, r.mean, r.rstd, r.x, weights.norm(w[0]), weights.norm(w[1]));
      weights.linear(r.qkv, r.ln, w[2]);
      for (int i = 0; i < n; i++) {
        KvCache cache = slots[i].cache;
        CachedAttention.forward(r.attyRows[i], cache.keys[l], cache.values[l], qh, slots[i].scores, yh, r.qkvRows[i],
            cache.maskRow, positions[i], 1, config.heads());
      }
      weights.linear(r.proj, r.atty, w[3]);
      Residual.forward(r.x, r.x, r.proj);
      LayerNorm.forward(r.ln, r.mean, r.rstd, r.x, weights.norm(w[4]), weights.norm(w[5]));
      weights.linear(r.fch, r.ln, w[6]);
      Gelu.forward(r.fchGelu, r.fchSig, r.fch);
      weights.linear(r.proj, r.fchGelu, w[7]);
      Residual.forward(r.x, r.x, r.proj);
    }
    LayerNorm.forward(r.ln, r.mean, r.rstd, r.x, weights.norm("ln_f.weight"), weights.norm("ln_f.bias"));
    weights.lmHead(r.logits, r.ln);
    return r.logits;
  }

  /** Releases the activations and the weights (a model's float32 views own nothing). */
  @Override
  public void close() {
    for (Rows r : rows) {
      if (r != null) {
        r.close();
      }
    }
    qh.close();
    yh.close();
    weights.close();
  }

  /** The activations of a step over n rows, and per-row views of the attention's input and output. */
  private final class Rows implements AutoCloseable {
    final INDArray x; // [n, C] residual stream
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
    final INDArray[] qkvRows; // n x [1, 3C] views of qkv
    final INDArray[] attyRows; // n x [1, C] views of atty

    Rows(int n) {
      long c = config.dModel();
      x = Nd4j.create(type, n, c);
      ln = Nd4j.create(type, n, c);
      mean = Nd4j.create(type, n);
      rstd = Nd4j.create(type, n);
      qkv = Nd4j.create(type, n, 3 * c);
      atty = Nd4j.create(type, n, c);
      proj = Nd4j.create(type, n, c);
      fch = Nd4j.create(type, n, 4 * c);
      fchGelu = Nd4j.create(type, n, 4 * c);
      fchSig = Nd4j.create(type, n, 4 * c);
      logits = Nd4j.create(type, n, config.vocabSize());
      qkvRows = new INDArray[n];
      attyRows = new INDArray[n];
      for (int i = 0; i < n; i++) {
        qkvRows[i] = qkv.get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all());
        attyRows[i] = atty.get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all());
      }
    }

    @Override
    public void close() {
      for (INDArray a : new INDArray[] {x, ln, mean, rstd, qkv, atty, proj, fch, fchGelu, fchSig, logits}) {
        a.close();
      }
    }
  }
}
