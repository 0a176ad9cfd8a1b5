/*
 * Tests of ClassifierConfig: every field's validation message, architecture parsing, the FLOPs
 * estimate. Test code only.
 */
package org.ringtrain.ops.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.ringtrain.ops.classify.ClassifierConfig.Architecture;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ClassifierConfigTest {

  private static void rejects(String part, Executable make) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make);
    assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
  }

  @Test
  void everyFieldIsValidatedWithAMessageNamingFieldAndValue() {
    Architecture t = Architecture.TRANSFORMER;
    rejects("architecture must not be null", () -> new ClassifierConfig(null, 10, 8, 8, 1, 2, 2));
    rejects("vocabSize=2", () -> new ClassifierConfig(t, 2, 8, 8, 1, 2, 2));
    rejects("maxLen=0", () -> new ClassifierConfig(t, 10, 0, 8, 1, 2, 2));
    rejects("dModel=0", () -> new ClassifierConfig(t, 10, 8, 0, 1, 2, 2));
    rejects("layers=-1", () -> new ClassifierConfig(t, 10, 8, 8, -1, 2, 2));
    rejects("heads=0", () -> new ClassifierConfig(t, 10, 8, 8, 1, 0, 2));
    rejects("dModel=8 and heads=3", () -> new ClassifierConfig(t, 10, 8, 8, 1, 3, 2));
    rejects("numClasses=1", () -> new ClassifierConfig(t, 10, 8, 8, 1, 2, 1));
  }

  @Test
  void headsAreIgnoredForTheLstm() {
    ClassifierConfig lstm = new ClassifierConfig(Architecture.LSTM, 10, 8, 8, 1, 0, 2);
    assertEquals(0, lstm.heads());
    assertThrows(IllegalStateException.class, lstm::headSize);
    assertEquals(2, new ClassifierConfig(Architecture.TRANSFORMER, 10, 8, 8, 1, 4, 2).headSize());
  }

  @Test
  void architectureNamesParseIgnoringCase() {
    assertEquals(Architecture.TRANSFORMER, Architecture.parse("Transformer"));
    assertEquals(Architecture.LSTM, Architecture.parse(" lstm "));
    rejects("'gru'", () -> Architecture.parse("gru"));
    rejects("'null'", () -> Architecture.parse(null));
  }

  @Test
  void flopsPerTokenAreSixTimesTheLayerWeightsPlusAttention() {
    ClassifierConfig lstm = new ClassifierConfig(Architecture.LSTM, 5000, 64, 64, 2, 0, 2);
    assertEquals(6.0 * 2 * (64 * 256 + 64 * 256), lstm.trainingFlopsPerToken(), 0.0);
    ClassifierConfig tr = new ClassifierConfig(Architecture.TRANSFORMER, 5000, 64, 64, 2, 4, 2);
    assertEquals(6.0 * 2 * 12 * 64 * 64 + 12.0 * 2 * 64 * 64, tr.trainingFlopsPerToken(), 0.0);
  }
}
