// Early stopping's bookkeeping on real ND4J arrays: the best loss and its
// parameters are kept, patience counts passes without improvement in a row, NaN
// never improves, and restoring puts the best parameters back. The loop's use of
// it (stopping a barrier stage, the checkpoint holding the restored weights) is
// tested through a classifier fit in TextClassifierTest. Test code only.
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EarlyStoppingTest {

  @Test
  void stopsAfterPatiencePassesWithoutImprovementAndRestoresTheBest() {
    INDArray params = Nd4j.createFromArray(1f, 2f, 3f);
    try (EarlyStopping early = new EarlyStopping(2)) {
      assertEquals(-1, early.restoreBest(params), "nothing recorded: nothing to restore");
      assertFalse(early.record(10, 0.9, params));
      params.assign(Nd4j.createFromArray(4f, 5f, 6f));
      assertFalse(early.record(20, 0.5, params), "a new best");
      params.assign(Nd4j.createFromArray(7f, 8f, 9f));
      assertFalse(early.record(30, 0.6, params), "one pass without improvement, patience 2");
      assertFalse(early.record(40, 0.4, params), "a new best resets the count");
      params.assign(Nd4j.createFromArray(0f, 0f, 0f));
      assertFalse(early.record(50, 0.4, params), "equal is not better");
      assertTrue(early.record(60, Double.NaN, params), "NaN never improves: the second pass in a row stops");
      assertEquals(40, early.restoreBest(params));
      assertArrayEquals(new float[] {7f, 8f, 9f}, params.toFloatVector(), "the parameters of step 40 are back");
      assertEquals(0.4, early.bestLoss(), 0.0);
    }
  }

  @Test
  void patienceBelowOneIsRefusedAndTheLoopConfigNeedsValidationPasses() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(0));
    assertTrue(e.getMessage().contains("patience >= 1, but found 0"), e.getMessage());
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>(LoopConfig.defaults());
    m.put("checkpointDir", "/tmp/unused");
    m.put("earlyStoppingPatience", 3);
    m.put("evalEvery", 0);
    IllegalArgumentException loop = assertThrows(IllegalArgumentException.class,
        () -> org.ringtrain.driver.config.FlatSettings.read(LoopConfig.class, m, "test config"));
    assertTrue(loop.getMessage().contains("earlyStoppingPatience") && loop.getMessage().contains("evalEvery > 0"),
        loop.getMessage());
  }
}
