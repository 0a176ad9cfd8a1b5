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
 * {@link TransformerActivations}) plus {@code 3 V} here (logits, probabilities and their
 * gradient) and one int32 token id; per batch shape a [T, T] causal mask.
 * {@link #bytes()} gives the exact total; docs/memory.md has the table.
 */
final class GptActivations implements AutoCloseable {

  final int batch;
  final int seqLen;
  final DataType dataType;
  final boolean recompute;
  private final Arena arena;

  final INDArray tokens; // [B*T] int32
  final INDArray ones; // [1, B*T]
  final INDArray mask; // [T, T]
  final TransformerActivations trunk;
  final INDArray logits; // [B*T, V]
  final INDArray probs; // [B*T, V]
  final INDArray dlogits; // [B*T, V]

  GptActivations(ModelConfig config, int batch, int seqLen, DataType dataType, boolean recompute) {
    this.batch = batch;
    this.recompute = recompute;
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
    logits = arena.take(n, v);
    probs = arena.take(n, v);
    dlogits = arena.take(n, v);
  }

  /** Whether these activations fit a batch of this shape and type, with this recomputation choice. */
  boolean fits(int b, int t, DataType type, boolean recomputing) {
    return b == batch && t == seqLen && type == dataType && recomputing == recompute;
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
