// MemoryPreflight: the budget read from Spark's executor settings, and the refusal message of a
// configuration whose estimate does not fit (largest parts named, remedies offered).
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.ops.gpt.ModelConfig;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MemoryPreflightTest {

  private static final ModelConfig GPT2 = new ModelConfig(50257, 1024, 768, 12, 12, 0);

  @Test
  void aClusterRankGetsItsExecutorsMemoryAndOverheadSharedByItsTasks() {
    MemoryPreflight.RankBudget b = MemoryPreflight.budget("spark://master:7077",
        Map.of("spark.executor.memory", "8g", "spark.executor.memoryOverhead", "4096", "spark.executor.cores", "4",
            "spark.task.cpus", "2"), 8);
    assertEquals(12L << 30, b.bytes());
    assertEquals(2, b.ranksPerJvm());
    MemoryPreflight.RankBudget defaults = MemoryPreflight.budget("k8s://api:443", Map.of(), 4);
    assertEquals((1024L + 384) << 20, defaults.bytes(), "1g and the 384m minimum overhead");
    assertEquals(1, defaults.ranksPerJvm());
  }

  @Test
  void aLocalBudgetIsSharedByAllRanksAndNamesItsLimit() {
    MemoryPreflight.RankBudget b = MemoryPreflight.budget("local[2,4]", Map.of(), 2);
    assertEquals(2, b.ranksPerJvm());
    assertTrue(b.bytes() > 0 && b.source().contains("all 2 ranks"), b.source());
  }

  @Test
  void anEstimateThatDoesNotFitIsRefusedWithItsLargestPartsAndWhatToChange() {
    MemoryEstimate e = MemoryEstimate.of(GPT2, 4, 2, false, false, 1000);
    MemoryPreflight.RankBudget budget = new MemoryPreflight.RankBudget(6L << 30, 1, "spark.executor.memory 4096m"
        + " + spark.executor.memoryOverhead 2048m, 1 rank(s) per executor", "raise spark.executor.memoryOverhead");
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> MemoryPreflight.check(e, budget));
    String m = refused.getMessage();
    assertTrue(m.startsWith("the estimated memory does not fit: 1 rank(s) x "), m);
    assertTrue(m.contains("but the limit is 6.00 GiB (spark.executor.memory 4096m"), m);
    assertTrue(m.contains("Largest parts per rank: activations per micro-batch (B=4, recompute off) 5."), m);
    assertTrue(m.contains("set recompute: true (activations 1."), m);
    assertTrue(m.contains("a smaller microBatch") && m.contains("optimizerSharding: true")
        && m.contains("raise spark.executor.memoryOverhead"), m);

    MemoryEstimate fits = MemoryEstimate.of(GPT2, 1, 2, true, false, 1000);
    MemoryPreflight.check(fits, budget);
  }
}
