/*
 * WarmupCosineScheduleTest: the schedule's values at the start and end of warm-up, in the middle
 * of the cosine, at and after the end of decay, and its argument checks.
 */
package org.ringtrain.ops.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class WarmupCosineScheduleTest {

  private static final double MAX = 6e-4;
  private static final double MIN = 6e-5;
  private final WarmupCosineSchedule schedule = new WarmupCosineSchedule(MAX, MIN, 10, 110);

  @Test
  void warmUpRisesLinearlyFromMaxOverWarmupPlusOne() {
    assertEquals(MAX / 11, schedule.lr(0), 1e-18);
    assertEquals(MAX * 5 / 11, schedule.lr(4), 1e-18);
    assertEquals(MAX * 10 / 11, schedule.lr(9), 1e-18);
  }

  @Test
  void theEndOfWarmUpIsThePeak() {
    assertEquals(MAX, schedule.lr(10), 1e-15);
  }

  @Test
  void halfwayThroughDecayTheRateIsMidwayBetweenPeakAndFloor() {
    assertEquals((MAX + MIN) / 2, schedule.lr(60), 1e-15);
    double quarter = MIN + 0.5 * (1 + Math.cos(Math.PI * 0.25)) * (MAX - MIN);
    assertEquals(quarter, schedule.lr(35), 1e-15);
  }

  @Test
  void decayIsMonotoneAndReachesTheFloorAtDecaySteps() {
    for (long s = 10; s < 110; s++) {
      assertTrue(schedule.lr(s + 1) <= schedule.lr(s), "lr must not rise after warm-up, at step " + s);
    }
    assertEquals(MIN, schedule.lr(110), 1e-15);
  }

  @Test
  void afterDecayTheRateStaysAtTheFloor() {
    assertEquals(MIN, schedule.lr(111));
    assertEquals(MIN, schedule.lr(1_000_000));
  }

  @Test
  void withoutWarmUpTheFirstStepIsThePeak() {
    assertEquals(1e-3, new WarmupCosineSchedule(1e-3, 0, 0, 100).lr(0), 1e-18);
  }

  @Test
  void tenthFloorIsNanoGptsRatio() {
    assertEquals(MAX / 10, WarmupCosineSchedule.withTenthFloor(MAX, 10, 110).minLr(), 1e-18);
  }

  @Test
  void inconsistentSettingsAreRejectedWithTheValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new WarmupCosineSchedule(MAX, MIN, 100, 100));
    assertTrue(e.getMessage().contains("decaySteps=100") && e.getMessage().contains("warmupSteps=100"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(MIN, MAX, 1, 10));
    assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(MAX, MIN, -1, 10));
    assertThrows(IllegalArgumentException.class, () -> schedule.lr(-1));
    assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.constant(Double.NaN));
  }
}
