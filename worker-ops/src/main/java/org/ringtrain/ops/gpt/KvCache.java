/*
 * KvCache: the keys and values of every block for the positions decoded so far, one fixed-size
 * array per block and kind, with each sequence's part also as the fused decode kernel's buffers
 * (float32) and the ND4J path's attention mask row that opens as positions fill. It computes
 * nothing (see DecodeAttentionKernel and CachedAttention) and is not used in training.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.kernels.DecodeAttentionKernel;
import org.ringtrain.ops.layers.Attention;

/**
 * Per block: k and v [B, NH, maxT, HS]. Memory: {@code 2 * L * B * maxT * C} elements, e.g. 12 MiB
 * in float32 for the small config at B 8.
 */
public final class KvCache implements AutoCloseable {

  final INDArray[] keys; // L x [B, NH, maxT, HS]
  final INDArray[] values; // L x [B, NH, maxT, HS]
  final INDArray maskRow; // [maxT], read by the ND4J path only
  final DecodeAttentionKernel.Cache[][] fused; // [L][B] each sequence's keys and values; null: the ND4J path
  private final int capacity;
  private int length;

  /** An empty cache for {@code batch} sequences of up to the config's context length. */
  public KvCache(ModelConfig config, int batch, DataType dataType) {
    this(config, batch, config.contextLength(), dataType);
  }

  /**
   * An empty cache for {@code batch} sequences of up to {@code capacity} positions: a server sizes
   * each request's cache to its prompt plus its new tokens rather than to the whole context.
   *
   * @param capacity in [1, contextLength]
   */
  public KvCache(ModelConfig config, int batch, int capacity, DataType dataType) {
    if (capacity < 1 || capacity > config.contextLength()) {
      throw new IllegalArgumentException("KV cache capacity must be in [1, " + config.contextLength()
          + "] (the context length), but found " + capacity + "; shorten the prompt or ask for fewer tokens");
    }
    this.capacity = capacity;
    keys = new INDArray[config.layers()];
    values = new INDArray[config.layers()];
    for (int l = 0; l < config.layers(); l++) {
      keys[l] = Nd4j.zeros(dataType, batch, config.heads(), capacity, config.headSize());
      values[l] = Nd4j.zeros(dataType, batch, config.heads(), capacity, config.headSize());
    }
    maskRow = Nd4j.create(dataType, capacity);
    fused = kernelCaches(config, batch, capacity);
    reset();
  }

  /** Row b's keys and values of every block as the kernel's caches; null when it does not take them. */
  private DecodeAttentionKernel.Cache[][] kernelCaches(ModelConfig config, int batch, int capacity) {
    DecodeAttentionKernel.Cache[][] caches = new DecodeAttentionKernel.Cache[keys.length][batch];
    for (int l = 0; l < keys.length; l++) {
      for (int b = 0; b < batch; b++) {
        caches[l][b] = DecodeAttentionKernel.Cache.of(keys[l].get(NDArrayIndex.point(b)),
            values[l].get(NDArrayIndex.point(b)), config.heads(), capacity, config.headSize());
        if (caches[l][b] == null) {
          return null;
        }
      }
    }
    return caches;
  }

  /** Positions filled so far; the next token goes to this position. */
  public int length() {
    return length;
  }

  /** Most positions the cache can hold: the context length. */
  public int capacity() {
    return capacity;
  }

  /** Forgets every position (the arrays stay allocated). */
  public void reset() {
    length = 0;
    maskRow.assign(Attention.MASKED);
  }

  /** Claims the next position and returns it; IllegalStateException when the cache is full. */
  int advance() {
    if (length >= capacity) {
      throw new IllegalStateException("the KV cache is full at the context length " + capacity
          + "; reset() it or generate fewer tokens (prompt + new tokens <= contextLength)");
    }
    return length++;
  }

  @Override
  public void close() {
    for (int l = 0; l < keys.length; l++) {
      keys[l].close();
      values[l].close();
    }
    maskRow.close();
  }
}
