/*
 * BatchDecoder: the float32 GptModel behind BatchDecoding - one decoding step for up to maxBatch
 * sequences at different positions. Embeddings, matmuls and the other layers run on all rows at
 * once; attention runs row by row, each against its own slot. It does not own the model and does
 * not sample.
 */
package org.ringtrain.ops.gpt;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.layers.CachedAttention;
import org.ringtrain.ops.layers.Gelu;
import org.ringtrain.ops.layers.LayerNorm;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.Residual;
import org.ringtrain.ops.layers.TiedLmHead;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.transformer.BlockTensors;

/**
 * Continuous batching's step: rows join and leave between steps, so activations are kept per row
 * count n (allocated the first time n occurs) and every row carries its own position. Not
 * thread-safe: one thread steps it.
 */
public final class BatchDecoder implements BatchDecoding {
  private final GptModel model;
  private final ModelConfig config;
  private final int maxBatch;
  private final DataType type;
  private final Rows[] rows; // rows[n] for n rows, made on first use
  private final INDArray qh; // [1, NH, 1, HS]
  private final INDArray yh; // [1, NH, 1, HS]

  /**
   * A decoder over {@code model}'s current parameters.
   *
   * @param maxBatch most rows per step, >= 1
   */
  public BatchDecoder(GptModel model, int maxBatch) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be >= 1, but found " + maxBatch);
    }
    this.model = model;
    this.config = model.config();
    this.maxBatch = maxBatch;
    this.type = model.params().dataType();
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
    ParameterBuffer p = model.params();
    INDArray wte = p.view("wte.weight"); // [V, C]
    INDArray wpe = p.view("wpe.weight"); // [maxT, C]
    int[] positions = new int[n];
    for (int i = 0; i < n; i++) {
      if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
        throw new IllegalArgumentException("token ids must be in [0, " + config.vocabSize() + "), but found "
            + tokens[i] + " for row " + i);
      }
      positions[i] = slots[i].cache.advance();
      CachedAttention.openSlot(slots[i].cache.maskRow, positions[i]);
    }
    // Row i's input: its token's embedding plus its own position's (two gathers, one add).
    Nd4j.pullRows(wte, r.x, 1, Arrays.copyOf(tokens, n));
    Nd4j.pullRows(wpe, r.pos, 1, positions);
    r.x.addi(r.pos);
    BlockTensors[] blocks = model.blocks();
    for (int l = 0; l < config.layers(); l++) {
      BlockTensors w = blocks[l];
      LayerNorm.forward(r.ln, r.mean, r.rstd, r.x, w.ln1w(), w.ln1b());
      Linear.forward(r.qkv, r.ln, w.qkvW(), w.qkvB());
      for (int i = 0; i < n; i++) {
        KvCache cache = slots[i].cache;
        CachedAttention.forward(r.attyRows[i], cache.keys[l], cache.values[l], qh, slots[i].scores, yh, r.qkvRows[i],
            cache.maskRow, positions[i], 1, config.heads());
      }
      Linear.forward(r.proj, r.atty, w.attProjW(), w.attProjB());
      Residual.forward(r.x, r.x, r.proj);
      LayerNorm.forward(r.ln, r.mean, r.rstd, r.x, w.ln2w(), w.ln2b());
      Linear.forward(r.fch, r.ln, w.fcW(), w.fcB());
      Gelu.forward(r.fchGelu, r.fchSig, r.fch);
      Linear.forward(r.proj, r.fchGelu, w.fcProjW(), w.fcProjB());
      Residual.forward(r.x, r.x, r.proj);
    }
    LayerNorm.forward(r.ln, r.mean, r.rstd, r.x, p.view("ln_f.weight"), p.view("ln_f.bias"));
    TiedLmHead.forward(r.logits, r.ln, wte);
    return r.logits;
  }

  @Override
  public void close() {
    for (Rows r : rows) {
      if (r != null) {
        r.close();
      }
    }
    qh.close();
    yh.close();
  }

  /** The activations of a step over n rows, and per-row views of the attention's input and output. */
  private final class Rows implements AutoCloseable {
    final INDArray x; // [n, C] residual stream
    final INDArray pos; // [n, C] position embeddings of the rows
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
      pos = Nd4j.create(type, n, c);
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
      for (INDArray a : new INDArray[] {x, pos, ln, mean, rstd, qkv, atty, proj, fch, fchGelu, fchSig, logits}) {
        a.close();
      }
    }
  }
}
