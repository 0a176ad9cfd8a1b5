/*
 * CheckpointSettingsTest: the validation of CheckpointSettings read through FlatSettings as users
 * write them: keepCheckpoints must leave a fallback unless unsafeKeepOne says otherwise, and the
 * lease timeout has a floor. Test code only.
 */
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.config.FlatSettings;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CheckpointSettingsTest {

  private static CheckpointSettings read(Object... keyValues) {
    Map<String, Object> m = new LinkedHashMap<>(CheckpointSettings.defaults());
    m.put("checkpointDir", "/tmp/run");
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], keyValues[i + 1]);
    }
    return FlatSettings.read(CheckpointSettings.class, m, "checkpoint settings");
  }

  @Test
  void keepCheckpointsOfOneIsRejectedWithTheWayOut() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read("keepCheckpoints", 1));
    assertTrue(e.getMessage().contains("keepCheckpoints"), e.getMessage());
    assertTrue(e.getMessage().contains("keep at least 2"), e.getMessage());
    assertTrue(e.getMessage().contains("--unsafe-keep-one"), e.getMessage());
  }

  @Test
  void keepCheckpointsOfOneIsAcceptedWithUnsafeKeepOne() {
    assertEquals(1, read("keepCheckpoints", 1, "unsafeKeepOne", true).keepCheckpoints());
    assertThrows(IllegalArgumentException.class, () -> read("keepCheckpoints", 0, "unsafeKeepOne", true));
  }

  @Test
  void defaultsKeepThreeSafelyWithATwoMinuteLease() {
    CheckpointSettings s = read();
    assertEquals(3, s.keepCheckpoints());
    assertEquals(false, s.unsafeKeepOne());
    assertEquals(Duration.ofMinutes(2), s.leaseTimeout());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> read("leaseTimeoutSeconds", 5))
        .getMessage().contains("leaseTimeoutSeconds"));
  }
}
