/*
 * GptActivations: every activation and scratch array one (B, T) batch shape of the GPT decoder
 * needs, allocated once and reused by every step of that shape: the trunk's (see
 * TransformerActivations) and the decoder's own (token ids, causal mask, logits, probabilities).
 * It computes nothing; GptModel fills and reads it.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.layers.Attention;
import org.ringtrain.ops.param.Arena;
import org.ringtrain.ops.transformer.TransformerActivations;

/**
 * Activations for one batch shape. Floats per token: the trunk's (see
 * {@link TransformerActivations}) plus one int32 token id; per batch shape a [T, T] causal mask
 * and the LM head's two [R, V] chunk arrays (logits, then their gradient, and probabilities; see
 * {@link ChunkedLmHead}), R = min(B*T, the head's chunk rows).
 * {@link #bytes()} gives the exact total; docs/memory.md has the table.
 */
final class GptActivations implements AutoCloseable {

  final int batch;
  final int seqLen;
  final DataType dataType;
  final boolean recompute;
  final int headChunkRows; // the chunk rows asked for; the head uses min(B*T, this)
  private final Arena arena;

  final INDArray tokens; // [B*T] int32
  final INDArray ones; // [1, B*T]
  final INDArray mask; // [T, T]
  final TransformerActivations trunk;
  final ChunkedLmHead head; // logits and probabilities [R, V] for R rows at a time

  GptActivations(ModelConfig config, int batch, int seqLen, DataType dataType, boolean recompute,
      int headChunkRows) {
    this.batch = batch;
    this.recompute = recompute;
    this.headChunkRows = headChunkRows;
    this.seqLen = seqLen;
    this.dataType = dataType;
    long n = (long) batch * seqLen;
    long v = config.vocabSize();
    arena = new Arena(dataType);
    tokens = Nd4j.create(DataType.INT32, n);
    ones = Nd4j.ones(dataType, 1, n);
    mask = Attention.causalMask(dataType, seqLen);
    trunk = new TransformerActivations(arena, ones, batch, seqLen, config.layers(), config.dModel(), config.heads(),
        recompute);
    long r = Math.min(n, headChunkRows);
    head = new ChunkedLmHead(arena.take(r, v), arena.take(r, v), n, GptModel.HEAD_TILE_ROWS);
  }

  /** Whether these activations fit a batch of this shape and type, with these recomputation and chunk choices. */
  boolean fits(int b, int t, DataType type, boolean recomputing, int chunkRows) {
    return b == batch && t == seqLen && type == dataType && recomputing == recompute && chunkRows == headChunkRows;
  }

  /** Off-heap bytes of every array held here. */
  long bytes() {
    return arena.bytes() + tokens.length() * 4 + (ones.length() + mask.length()) * dataType.width();
  }

  @Override
  public void close() {
    arena.close();
    for (INDArray a : new INDArray[] {tokens, ones, mask}) {
      if (!a.wasClosed()) {
        a.close();
      }
    }
  }
}
