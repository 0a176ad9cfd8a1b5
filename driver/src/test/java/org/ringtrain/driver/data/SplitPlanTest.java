// Tests of the global numbering and the train/validation/dropped split, without Spark.
package org.ringtrain.driver.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class SplitPlanTest {

  @Test
  void numbersSequencesFileAfterFile() {
    // T=4: 23 tokens -> 5, 4 tokens -> 0, 13 tokens -> 3.
    SplitPlan p = SplitPlan.of("x", new long[] {23, 4, 13}, 4, 0.0, 1);
    assertEquals(0, p.sequenceOffset(0));
    assertEquals(5, p.sequenceOffset(1));
    assertEquals(5, p.sequenceOffset(2));
    assertEquals(8, p.totalSequences());
    assertEquals(40, p.totalTokens());
    assertEquals(8, p.trainPerRank());
    assertEquals(0, p.validationPerRank());
    assertEquals(0, p.droppedSequences());
  }

  @Test
  void holdsOutTheLastFractionAndDropsTheTrainRemainder() {
    // 103 sequences, 10%, 4 ranks: validation round(10.3/4)=3 per rank = 12; train pool 91 =
    // 22*4 + 3 dropped.
    SplitPlan p = SplitPlan.of("x", new long[] {103 * 8 + 1}, 8, 0.10, 4);
    assertEquals(103, p.totalSequences());
    assertEquals(3, p.validationPerRank());
    assertEquals(91, p.validationStart());
    assertEquals(22, p.trainPerRank());
    assertEquals(88, p.trainEnd());
    assertEquals(3, p.droppedSequences());
  }

  @Test
  void aPositiveFractionGivesAtLeastOneValidationSequencePerRank() {
    SplitPlan p = SplitPlan.of("x", new long[] {21}, 2, 0.01, 2); // 10 sequences
    assertEquals(1, p.validationPerRank());
    assertEquals(4, p.trainPerRank());
    assertEquals(0, p.droppedSequences());
  }

  @Test
  void emptyCorpusIsRefusedWithWhatWasFound() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SplitPlan.of("file:/c", new long[] {0, 0}, 4, 0.05, 1));
    assertTrue(e.getMessage().startsWith("corpus at 'file:/c' is empty: 2 file(s), 0 tokens"),
        e.getMessage());
  }

  @Test
  void corpusShorterThanContextPlusOneIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SplitPlan.of("file:/c", new long[] {64, 100}, 128, 0.05, 1));
    assertTrue(e.getMessage().contains("shorter than contextLength+1 = 129 tokens"),
        e.getMessage());
    assertTrue(e.getMessage().contains("found 164 tokens in 2 file(s), the largest 100"),
        e.getMessage());
  }

  @Test
  void tooFewSequencesForTheRanksIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SplitPlan.of("file:/c", new long[] {9}, 4, 0.05, 4)); // 2 sequences
    assertTrue(e.getMessage().contains("too small for worldSize=4"), e.getMessage());
    assertTrue(e.getMessage().contains("gives 2 sequences of 5 tokens"), e.getMessage());
  }
}
