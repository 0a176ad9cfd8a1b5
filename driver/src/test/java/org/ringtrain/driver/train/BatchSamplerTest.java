// BatchSampler's promises, without Spark: one permutation of all training rows per epoch that only
// (seed, epoch) determines, global batches that never repeat a row within an epoch, the wrap to the
// next epoch when fewer than a global batch remain, an exact continuation from (epoch, position)
// after a resume, and rank slices whose union is the step's global batch at every world size.
// Not a test of which rows a rank can read: every rank holds them all (DataParallelTrainer).
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class BatchSamplerTest {

  @Test
  void theSameSeedAndEpochGiveTheSameGlobalBatches() {
    assertEquals(render(draw(new BatchSampler(50, 4, 7, true, 0, 0), 40)),
        render(draw(new BatchSampler(50, 4, 7, true, 0, 0), 40)));
  }

  @Test
  void anotherSeedGivesAnotherOrder() {
    List<int[]> base = draw(new BatchSampler(50, 4, 7, true, 0, 0), 12);
    assertFalse(sameBatches(base, draw(new BatchSampler(50, 4, 8, true, 0, 0), 12)), "another seed");
  }

  @ParameterizedTest(name = "count={0} globalBatch={1}")
  @CsvSource({"48, 4", "50, 4", "7, 7", "9, 2", "1, 1"})
  void everyEpochDrawsDistinctRowsAndSkipsOnlyTheRemainder(int count, int batch) {
    BatchSampler sampler = new BatchSampler(count, batch, 42, true, 0, 0);
    int perEpoch = count / batch;
    for (long epoch = 0; epoch < 3; epoch++) {
      BitSet seen = new BitSet(count);
      for (int k = 0; k < perEpoch; k++) {
        int[] picked = sampler.nextStep();
        assertEquals(epoch, sampler.epoch(), "batch " + k + " of epoch " + epoch);
        assertEquals(batch, picked.length);
        for (int index : picked) {
          assertTrue(index >= 0 && index < count, "index " + index + " outside [0, " + count + ")");
          assertFalse(seen.get(index), "epoch " + epoch + " drew row " + index + " twice");
          seen.set(index);
        }
      }
      assertEquals(perEpoch * batch, seen.cardinality(), "epoch " + epoch + " leaves out only count % globalBatch");
      assertEquals((long) perEpoch * batch, sampler.position());
    }
  }

  @Test
  void fewerThanAGlobalBatchLeftStartsTheNextEpochWithAFreshPermutation() {
    BatchSampler sampler = new BatchSampler(10, 3, 1, true, 0, 0);
    List<int[]> first = draw(sampler, 3);
    assertEquals(0, sampler.epoch());
    assertEquals(9, sampler.position());

    List<int[]> second = draw(sampler, 3);
    assertEquals(1, sampler.epoch(), "one row was left, less than a global batch of 3");
    assertEquals(9, sampler.position());
    assertFalse(sameBatches(first, second), "epoch 1 must not repeat epoch 0's order");
    assertEquals(render(draw(new BatchSampler(10, 3, 1, true, 1, 0), 3)), render(second),
        "epoch 1's order depends only on (seed, epoch)");
  }

  @Test
  void resumingFromEpochAndPositionContinuesTheExactOrder() {
    BatchSampler original = new BatchSampler(23, 4, 99, true, 0, 0);
    draw(original, 7); // crosses into epoch 1 (5 global batches per epoch)
    BatchSampler resumed = new BatchSampler(23, 4, 99, true, original.epoch(), original.position());
    assertEquals(1, resumed.epoch());
    List<int[]> expected = draw(original, 12);
    List<int[]> actual = draw(resumed, 12);
    for (int k = 0; k < expected.size(); k++) {
      assertArrayEquals(expected.get(k), actual.get(k), "global batch " + k + " after the resume");
    }
    assertEquals(original.epoch(), resumed.epoch());
    assertEquals(original.position(), resumed.position());
  }

  @Test
  void aResumeAtTheEndOfAnEpochWrapsOnTheFirstStep() {
    BatchSampler sampler = new BatchSampler(8, 4, 5, true, 2, 8);
    sampler.nextStep();
    assertEquals(3, sampler.epoch());
    assertEquals(4, sampler.position());
  }

  @Test
  void withoutShuffleGlobalBatchesWalkTheRowsInOrder() {
    BatchSampler sampler = new BatchSampler(7, 3, 123, false, 0, 0);
    assertArrayEquals(new int[] {0, 1, 2}, sampler.nextStep());
    assertArrayEquals(new int[] {3, 4, 5}, sampler.nextStep());
    assertArrayEquals(new int[] {0, 1, 2}, sampler.nextStep(), "row 6 is the skipped remainder");
    assertEquals(1, sampler.epoch());
  }

  /**
   * A global batch of 24 rows at microBatch 2 can be run by 1, 2, 3, 4, 6 or 12 ranks; at every
   * world size the ranks' slices of every step, together, are exactly that step's global batch, each
   * row once, and their hashes add up to the global batch's hash.
   */
  @ParameterizedTest(name = "worldSize={0}")
  @CsvSource({"1", "2", "3", "4", "6", "12"})
  void theRankSlicesOfAStepAreItsGlobalBatchAtEveryWorldSize(int worldSize) {
    int microBatch = 2;
    int globalBatch = 24;
    int accum = BatchSampler.accumSteps(globalBatch, worldSize, microBatch);
    assertEquals(globalBatch, worldSize * microBatch * accum);
    BatchSampler sampler = new BatchSampler(100, globalBatch, 11, true, 0, 0);
    BatchSampler reference = new BatchSampler(100, globalBatch, 11, true, 0, 0);
    for (int step = 0; step < 10; step++) {
      int[] rows = sampler.nextStep();
      assertArrayEquals(reference.nextStep(), rows, "step " + step + "'s global batch does not depend on the ranks");
      List<Integer> union = new ArrayList<>();
      long hashSum = 0;
      for (int rank = 0; rank < worldSize; rank++) {
        for (int micro = 0; micro < accum; micro++) {
          int[] slice = BatchSampler.slice(rows, micro, rank, worldSize, microBatch, new int[microBatch]);
          hashSum += BatchSampler.hash(slice);
          Arrays.stream(slice).forEach(union::add);
        }
      }
      int[] sortedUnion = union.stream().mapToInt(Integer::intValue).sorted().toArray();
      int[] sortedBatch = rows.clone();
      Arrays.sort(sortedBatch);
      assertArrayEquals(sortedBatch, sortedUnion, "step " + step + " at worldSize " + worldSize);
      assertEquals(BatchSampler.hash(rows), hashSum, "slice hashes add up to the global batch's");
    }
  }

  @Test
  void microBatchAOfRankRIsThePieceAWorldSizePlusR() {
    int[] rows = {10, 11, 12, 13, 14, 15, 16, 17};
    assertArrayEquals(new int[] {12, 13}, BatchSampler.slice(rows, 0, 1, 2, 2, new int[2]));
    assertArrayEquals(new int[] {14, 15}, BatchSampler.slice(rows, 1, 0, 2, 2, new int[2]));
    assertArrayEquals(new int[] {16, 17}, BatchSampler.slice(rows, 3, 0, 1, 2, new int[2]));
  }

  @Test
  void aWorldSizeThatCannotKeepTheGlobalBatchIsRefusedWithWhatToChange() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchSampler.accumSteps(16, 3, 2));
    assertTrue(e.getMessage().contains("global batch of 16 rows cannot be kept at worldSize=3 x microBatch=2"),
        e.getMessage());
    assertTrue(e.getMessage().contains("choose a worldSize and microBatch whose product divides 16"), e.getMessage());
  }

  @Test
  void theHashIgnoresOrderButNotTheRows() {
    assertEquals(BatchSampler.hash(new int[] {3, 1, 2}), BatchSampler.hash(new int[] {1, 2, 3}));
    assertFalse(BatchSampler.hash(new int[] {1, 2, 3}) == BatchSampler.hash(new int[] {1, 2, 4}));
    assertFalse(BatchSampler.hash(new int[] {0}) == BatchSampler.hash(new int[0]), "row 0 counts");
  }

  @Test
  void fewerRowsThanOneGlobalBatchAreRefusedWithWhatToChange() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new BatchSampler(3, 4, 0, true, 0, 0));
    assertTrue(e.getMessage().contains("holds 3 training rows but one step needs a global batch of 4"),
        e.getMessage());
    assertTrue(e.getMessage().contains("use a smaller microBatch"), e.getMessage());
  }

  private static List<int[]> draw(BatchSampler sampler, int steps) {
    List<int[]> out = new ArrayList<>();
    for (int k = 0; k < steps; k++) {
      out.add(sampler.nextStep());
    }
    return out;
  }

  private static boolean sameBatches(List<int[]> a, List<int[]> b) {
    return render(a).equals(render(b));
  }

  private static List<String> render(List<int[]> batches) {
    return batches.stream().map(Arrays::toString).toList();
  }
}
