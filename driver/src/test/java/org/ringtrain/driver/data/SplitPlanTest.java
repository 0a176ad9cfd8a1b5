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
    assertEquals(8, p.trainSequences());
    assertEquals(0, p.validationPerRank());
    assertEquals(0, p.droppedSequences());
  }

  @Test
  void holdsOutTheLastFractionAndDropsTheValidationRemainder() {
    // 103 sequences, 10%, 4 ranks: round(10.3) = 10 held out, 2 per rank validate (the last 8), 2
    // dropped; training 93, in partitions of 24 (the last 21).
    SplitPlan p = SplitPlan.of("x", new long[] {103 * 8 + 1}, 8, 0.10, 4);
    assertEquals(103, p.totalSequences());
    assertEquals(2, p.validationPerRank());
    assertEquals(95, p.validationStart());
    assertEquals(93, p.trainSequences());
    assertEquals(93, p.trainEnd());
    assertEquals(24, p.trainPerPartition());
    assertEquals(2, p.droppedSequences());
  }

  @Test
  void theTrainingSequencesAreTheSameAtEveryWorldSize() {
    // 1000 sequences, 5%: 50 held out at any world size up to 50, so training is [0, 950) for all.
    for (int world = 1; world <= 8; world++) {
      SplitPlan p = SplitPlan.of("x", new long[] {1000 * 8 + 1}, 8, 0.05, world);
      assertEquals(950, p.trainSequences(), "worldSize " + world);
      assertEquals(50 / world, p.validationPerRank(), "worldSize " + world);
      assertEquals(1000 - (50 / world) * world, p.validationStart(), "worldSize " + world);
    }
  }

  @Test
  void aPositiveFractionGivesAtLeastOneValidationSequencePerRank() {
    SplitPlan p = SplitPlan.of("x", new long[] {21}, 2, 0.01, 2); // 10 sequences
    assertEquals(1, p.validationPerRank());
    assertEquals(8, p.trainSequences());
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
