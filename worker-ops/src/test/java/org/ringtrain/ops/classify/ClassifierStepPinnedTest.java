/*
 * Pins one float32 training step (loss and gradients, bit for bit) of both classifiers on a
 * padded batch (the Transformer on packed and on padded rows), so that restructuring the layers cannot change a single bit unnoticed. Test code
 * only; the numerical correctness itself is SequenceClassifierTest's.
 */
package org.ringtrain.ops.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.ringtrain.ops.param.SplitMix64;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClassifierStepPinnedTest {

  private static long bits(float[] values) {
    long h = 1125899906842597L;
    for (float v : values) {
      h = 31 * h + Float.floatToRawIntBits(v);
    }
    return h;
  }

  /** {loss bits, gradient checksum} of one step on a fixed batch with trailing padding. */
  private static long[] step(ClassifierConfig.Architecture arch) {
    return step(arch, true);
  }

  /** As {@link #step(ClassifierConfig.Architecture)}; a Transformer on packed or padded rows. */
  private static long[] step(ClassifierConfig.Architecture arch, boolean packed) {
    ClassifierConfig config = new ClassifierConfig(arch, 50, 12, 16, 2, 4, 3);
    int batch = 4;
    int[] tokens = new int[batch * config.maxLen()];
    int[] labels = new int[batch];
    SplitMix64 rng = new SplitMix64(5);
    for (int b = 0; b < batch; b++) {
      int len = 3 + b * 2;
      for (int t = 0; t < len; t++) {
        tokens[b * config.maxLen() + t] = 2 + (int) (rng.nextDouble() * 48);
      }
      labels[b] = b % 3;
    }
    SequenceClassifier created = arch == ClassifierConfig.Architecture.TRANSFORMER
        ? new TransformerClassifier(config, DataType.FLOAT, packed) : SequenceClassifier.create(config, DataType.FLOAT);
    ClassifierInit.initialise(created.params(), config, 99);
    try (SequenceClassifier model = created) {
      double loss = model.forward(tokens, labels, batch);
      model.backward(null);
      return new long[] {Double.doubleToRawLongBits(loss), bits(model.grads().flat().toFloatVector())};
    }
  }

  @Test
  void transformerStepIsPinned() {
    long[] got = step(ClassifierConfig.Architecture.TRANSFORMER);
    assertEquals(TRANSFORMER_LOSS_BITS, got[0], "loss bits");
    assertEquals(TRANSFORMER_GRADS, got[1], "gradient checksum");
  }

  @Test
  void paddedTransformerStepIsPinned() {
    long[] got = step(ClassifierConfig.Architecture.TRANSFORMER, false);
    assertEquals(TRANSFORMER_LOSS_BITS, got[0], "loss bits");
    assertEquals(TRANSFORMER_PADDED_GRADS, got[1], "gradient checksum");
  }

  @Test
  void lstmStepIsPinned() {
    long[] got = step(ClassifierConfig.Architecture.LSTM);
    assertEquals(LSTM_LOSS_BITS, got[0], "loss bits");
    assertEquals(LSTM_GRADS, got[1], "gradient checksum");
  }

  // Pinned with the fused float32 kernels (org.ringtrain.ops.kernels): LayerNorm, GELU, attention
  // softmax, cross-entropy, column sums (the LSTM's loss bits are unchanged from before them).
  private static final long TRANSFORMER_LOSS_BITS = 4607671353984679936L;
  // Packed rows (the default since PackedRows): the loss bits are the padded layout's; the
  // gradient sums over tokens (weight gradients, pooling) add the same terms, minus the padded
  // positions' exact zeros, in another order: TRANSFORMER_PADDED_GRADS below is the padded
  // layout's, unchanged.
  private static final long TRANSFORMER_GRADS = -1583416969715589554L;
  private static final long TRANSFORMER_PADDED_GRADS = -3451096263820976808L;
  private static final long LSTM_LOSS_BITS = 4607626507009916928L;
  // LSTM_GRADS re-pinned for the fused LSTM cell (LstmCellKernel): its sigmoid and tanh round
  // differently from ND4J's (~1e-7 relative, LstmFusedTest); was 3343157980424245765L.
  private static final long LSTM_GRADS = -8207493926017610507L;
}
