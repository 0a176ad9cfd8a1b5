/*
 * TrainingStateTest: the validation of TrainingState's fields. It does not test persistence.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TrainingStateTest {

  @Test
  @Timeout(10)
  void negativePositionsAreRejectedWithTheField() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TrainingState(0, 0, -1, 1, "{}", "byte"));
    assertEquals("cursor must be >= 0, but found cursor=-1", e.getMessage());
  }

  @Test
  @Timeout(10)
  void blankTokenizerAndNullConfigAreRejected() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new TrainingState(0, 0, 0, 1, "{}", " "))
        .getMessage().contains("tokenizerId must not be blank"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new TrainingState(0, 0, 0, 1, null, "byte"))
        .getMessage().contains("configJson must not be null"));
  }

  @Test
  @Timeout(10)
  void anyRngSeedIsAccepted() {
    assertEquals(Long.MIN_VALUE, new TrainingState(3, 1, 2, Long.MIN_VALUE, "{}", "gpt2").rngSeed());
  }
}
