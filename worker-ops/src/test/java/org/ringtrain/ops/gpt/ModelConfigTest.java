/*
 * Tests of ModelConfig: presets and validation messages. Test code only.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ModelConfigTest {

  @Test
  void presetsHaveTheDocumentedSizes() {
    ModelConfig tiny = ModelConfig.tiny();
    assertEquals(new ModelConfig(256, 128, 128, 4, 4, 0), tiny);
    assertEquals(32, tiny.headSize());
    ModelConfig small = ModelConfig.small();
    assertEquals(new ModelConfig(256, 256, 384, 6, 6, 0), small);
    assertEquals(64, small.headSize());
  }

  @Test
  void headsThatDoNotDivideDModelAreRejectedWithBothValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ModelConfig(256, 128, 130, 4, 4, 0));
    assertTrue(e.getMessage().contains("heads must divide dModel"), e.getMessage());
    assertTrue(e.getMessage().contains("dModel=130") && e.getMessage().contains("heads=4"), e.getMessage());
  }

  @Test
  void nonPositiveSizesAreRejectedNamingTheField() {
    assertMessage(() -> new ModelConfig(0, 128, 128, 4, 4, 0), "vocabSize must be > 0", "vocabSize=0");
    assertMessage(() -> new ModelConfig(256, -1, 128, 4, 4, 0), "contextLength must be > 0", "contextLength=-1");
    assertMessage(() -> new ModelConfig(256, 128, 0, 4, 4, 0), "dModel must be > 0", "dModel=0");
    assertMessage(() -> new ModelConfig(256, 128, 128, 0, 4, 0), "layers must be > 0", "layers=0");
    assertMessage(() -> new ModelConfig(256, 128, 128, 4, 0, 0), "heads must be > 0", "heads=0");
  }

  @Test
  void dropoutOutsideZeroToOneIsRejectedWithAHint() {
    assertEquals(0.1, new ModelConfig(256, 128, 128, 4, 4, 0.1).dropout());
    assertMessage(() -> new ModelConfig(256, 128, 128, 4, 4, 1.0), "dropout must be in [0, 1)", "dropout=1.0",
        "use 0 to turn it off");
    assertMessage(() -> new ModelConfig(256, 128, 128, 4, 4, -0.1), "dropout must be in [0, 1)", "dropout=-0.1");
    assertMessage(() -> new ModelConfig(256, 128, 128, 4, 4, Double.NaN), "dropout must be in [0, 1)", "NaN");
  }

  private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
  }
}
