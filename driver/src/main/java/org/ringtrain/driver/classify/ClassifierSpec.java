// The shape of a trained text classifier, as the driver ships it to executors
// and saves it with the model: a serialisable mirror of worker-ops'
// ClassifierConfig (which stays free of java.io concerns).
package org.ringtrain.driver.classify;

import java.io.Serializable;
import org.ringtrain.ops.classify.ClassifierConfig;

/**
 * Architecture and sizes of a classifier; {@link #config()} validates them.
 *
 * @param architecture {@code transformer} or {@code lstm}
 * @param vocabSize    V, including {@code <pad>} and {@code <unk>}
 * @param maxLen       tokens per row; longer rows are truncated
 * @param dModel       embedding (and LSTM hidden) width
 * @param layers       encoder blocks or stacked LSTM layers
 * @param heads        attention heads (Transformer only)
 * @param numClasses   K; labels are 0..K-1
 */
record ClassifierSpec(String architecture, int vocabSize, int maxLen, int dModel, int layers, int heads,
    int numClasses) implements Serializable {

  ClassifierSpec {
    config(architecture, vocabSize, maxLen, dModel, layers, heads, numClasses); // validates
  }

  /** The worker-ops config of this spec. */
  ClassifierConfig config() {
    return config(architecture, vocabSize, maxLen, dModel, layers, heads, numClasses);
  }

  private static ClassifierConfig config(String architecture, int vocabSize, int maxLen, int dModel, int layers,
      int heads, int numClasses) {
    return new ClassifierConfig(ClassifierConfig.Architecture.parse(architecture), vocabSize, maxLen, dModel,
        layers, heads, numClasses);
  }
}
