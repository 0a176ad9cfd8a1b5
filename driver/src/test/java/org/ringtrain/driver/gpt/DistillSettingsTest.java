// DistillSettings: read from the same flat layers as the student's TrainConfig, defaults, and each
// bad value refused with what to do. No Spark.
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class DistillSettingsTest {

  @Test
  void settingsComeFromTheLayersAndTheRestIsTheStudentsConfig() {
    Map<String, Object> file = Map.of("teacher", "/runs/t", "alpha", 0.3, "dModel", 64, "input", "in.txt",
        "checkpointDir", "/runs/s");
    Map<String, Object> flags = Map.of("temperature", "4");
    DistillSettings d = DistillSettings.fromLayers(file, flags);
    assertEquals(new DistillSettings("/runs/t", 0.3, 4.0), d);
    assertEquals(DistillSettings.DEFAULT_ALPHA, DistillSettings.fromLayers(Map.of("teacher", "t")).alpha());
    Map<String, Object> student = DistillSettings.withoutDistillKeys(file, flags);
    assertFalse(student.containsKey("teacher") || student.containsKey("alpha") || student.containsKey("temperature"));
    assertEquals(64, TrainConfig.fromLayers(student).dModel());
  }

  @Test
  void badValuesAreRefusedWithWhatToDo() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DistillSettings.fromLayers(Map.of()))
        .getMessage().contains("teacher = null; give the teacher's checkpoint directory"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> DistillSettings.fromLayers(Map.of("teacher", "t", "alpha", 1.5))).getMessage()
        .contains("alpha = 1.5; use a weight in [0, 1]"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> DistillSettings.fromLayers(Map.of("teacher", "t", "temperature", 0))).getMessage()
        .contains("temperature = 0.0; use a finite temperature > 0"));
  }
}
