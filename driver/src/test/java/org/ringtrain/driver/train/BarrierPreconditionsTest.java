// The barrier stage's preconditions, checked on plain SparkConf values.
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class BarrierPreconditionsTest {

  @Test
  void dynamicAllocationIsRefusedWithTheSettingsToUse() {
    SparkConf conf = new SparkConf(false).set("spark.dynamicAllocation.enabled", "true");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BarrierPreconditions.check(conf, 4, 8));
    assertTrue(e.getMessage().contains("spark.dynamicAllocation.enabled=false and spark.executor.instances=4"),
        e.getMessage());
  }

  @Test
  void tooFewSlotsAreRefusedSayingHowManyAreNeededAndOffered() {
    SparkConf conf = new SparkConf(false).set("spark.task.cpus", "2");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BarrierPreconditions.check(conf, 4, 3));
    assertTrue(e.getMessage().contains("needs 4 concurrent task slots but the cluster offers 3"), e.getMessage());
  }

  @Test
  void executorsWithSeveralSlotsAreWarnedAbout() {
    SparkConf conf = new SparkConf(false).set("spark.executor.cores", "4").set("spark.task.cpus", "1");
    List<String> warnings = BarrierPreconditions.check(conf, 2, 8);
    assertEquals(1, warnings.size());
    assertTrue(warnings.get(0).contains("4 task slots"), warnings.get(0));
  }

  @Test
  void oneRankPerExecutorPassesWithoutWarnings() {
    SparkConf conf = new SparkConf(false).set("spark.executor.cores", "2").set("spark.task.cpus", "2");
    assertTrue(BarrierPreconditions.check(conf, 2, 2).isEmpty());
  }
}
