/*
 * Tests of NonFiniteGuard's verdicts (update, skip, stop) under both onNonFinite settings, its
 * counts, and its scan of a flat float buffer. Plain JUnit, no Spark. Test code only.
 */
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.train.DivergenceSettings.OnNonFinite;
import org.ringtrain.driver.train.NonFiniteGuard.Verdict;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class NonFiniteGuardTest {

  @Test
  void stopEndsAtTheFirstNonFiniteLossOrNorm() {
    NonFiniteGuard guard = new NonFiniteGuard(new DivergenceSettings(OnNonFinite.STOP, 5));
    assertEquals(Verdict.UPDATE, guard.check(2.5f, 1.0));
    assertEquals(Verdict.STOP, guard.check(2.5f, Double.POSITIVE_INFINITY));
    assertEquals(Verdict.STOP, new NonFiniteGuard(new DivergenceSettings(OnNonFinite.STOP, 5)).check(Float.NaN, 1.0));
    assertEquals(0, guard.skipped());
  }

  @Test
  void skipCountsSkippedStepsAndStopsAfterMaxSkippedStepsInARow() {
    NonFiniteGuard guard = new NonFiniteGuard(new DivergenceSettings(OnNonFinite.SKIP, 2));
    assertEquals(Verdict.SKIP, guard.check(Float.NaN, Double.NaN));
    assertEquals(Verdict.SKIP, guard.check(2.0f, Double.NaN));
    assertEquals(Verdict.UPDATE, guard.check(2.0f, 1.0), "a finite step resets the run of skips");
    assertEquals(0, guard.consecutive());
    assertEquals(Verdict.SKIP, guard.check(Float.POSITIVE_INFINITY, 1.0));
    assertEquals(Verdict.SKIP, guard.check(Float.NaN, 1.0));
    assertEquals(Verdict.STOP, guard.check(Float.NaN, 1.0), "a third non-finite step in a row with maxSkippedSteps=2");
    assertEquals(4, guard.skipped());
    assertEquals(2, guard.consecutive());
  }

  @Test
  void messagesNameTheValuesThatWentNonFinite() {
    assertEquals("loss (NaN)", NonFiniteGuard.nonFiniteValues(Float.NaN, 1.0));
    assertEquals("gradient norm (Infinity)", NonFiniteGuard.nonFiniteValues(1f, Double.POSITIVE_INFINITY));
    assertEquals("loss (NaN) and gradient norm (NaN)", NonFiniteGuard.nonFiniteValues(Float.NaN, Double.NaN));
  }

  @Test
  void scanFindsTheFirstNonFiniteFloatInNativeOrder() {
    ByteBuffer bytes = ByteBuffer.allocateDirect(7 * Float.BYTES).order(ByteOrder.nativeOrder());
    for (int i = 0; i < 7; i++) {
      bytes.putFloat(i * Float.BYTES, i - 3.5f);
    }
    assertEquals(-1, NonFiniteGuard.firstNonFinite(bytes, 7));
    bytes.putFloat(5 * Float.BYTES, Float.NEGATIVE_INFINITY);
    bytes.putFloat(6 * Float.BYTES, Float.NaN);
    assertEquals(5, NonFiniteGuard.firstNonFinite(bytes, 7));
    assertEquals(-1, NonFiniteGuard.firstNonFinite(bytes, 5), "only the first count floats are scanned");
  }
}
