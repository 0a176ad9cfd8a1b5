/*
 * Tests of ClassifierInit: the initial parameters of both classifiers are pinned, so that a change
 * in the shared Transformer initialisation or the LSTM rule cannot slip through. Test code only.
 */
package org.ringtrain.ops.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClassifierInitTest {

  private static long checksum(SequenceClassifier model) {
    float[] values = model.params().flat().toFloatVector();
    long h = 1125899906842597L;
    for (float v : values) {
      h = 31 * h + Float.floatToRawIntBits(v);
    }
    return h;
  }

  @Test
  void transformerClassifierParametersArePinned() {
    ClassifierConfig config = new ClassifierConfig(ClassifierConfig.Architecture.TRANSFORMER, 50, 12, 16, 2, 4, 3);
    try (SequenceClassifier model = SequenceClassifier.initialised(config, 99)) {
      assertEquals(TRANSFORMER_CHECKSUM, checksum(model), "checksum of the seed-99 Transformer classifier");
    }
  }

  @Test
  void lstmClassifierParametersArePinned() {
    ClassifierConfig config = new ClassifierConfig(ClassifierConfig.Architecture.LSTM, 50, 12, 16, 2, 4, 3);
    try (SequenceClassifier model = SequenceClassifier.initialised(config, 99)) {
      assertEquals(LSTM_CHECKSUM, checksum(model), "checksum of the seed-99 LSTM classifier");
    }
  }

  // Pinned from the code before the Transformer block was shared between the models.
  private static final long TRANSFORMER_CHECKSUM = -8989794309589290123L;
  private static final long LSTM_CHECKSUM = 7475759442244236331L;
}
