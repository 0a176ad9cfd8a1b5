// BatchSampler's promises, without Spark: one permutation of all training rows per epoch that only
// (seed, epoch) determines, global batches that never repeat a row within an epoch, the wrap to the
// next epoch when fewer than a global batch remain, an exact continuation from (epoch, position)
// after a resume, and rank slices whose union is the step's global batch at every world size; with
// length grouping, the same rows per epoch as without it, length-sorted global batches, the same
// determinism and resume, and fewer padded positions.
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
import java.util.SplittableRandom;
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

  @ParameterizedTest(name = "count={0} globalBatch={1} groupBatches={2}")
  @CsvSource({"203, 8, 4", "64, 8, 8", "64, 8, 100", "50, 4, 1", "9, 2, 3"})
  void lengthGroupingUsesTheSameRowsPerEpochAsWithoutIt(int count, int batch, int groupBatches) {
    int[] lengths = lengths(count, 3);
    BatchSampler plain = new BatchSampler(count, batch, 42, true, 0, 0);
    BatchSampler grouped = new BatchSampler(count, batch, 42, true, 0, 0, lengths, groupBatches);
    int perEpoch = count / batch;
    for (long epoch = 0; epoch < 3; epoch++) {
      BitSet plainRows = new BitSet(count);
      BitSet groupedRows = new BitSet(count);
      for (int k = 0; k < perEpoch; k++) {
        Arrays.stream(plain.nextStep()).forEach(plainRows::set);
        int[] step = grouped.nextStep();
        assertEquals(epoch, grouped.epoch());
        for (int i = 0; i < step.length; i++) {
          assertFalse(groupedRows.get(step[i]), "epoch " + epoch + " drew row " + step[i] + " twice");
          groupedRows.set(step[i]);
          assertTrue(i == 0 || lengths[step[i - 1]] <= lengths[step[i]], "global batch " + k + " is length-sorted");
        }
      }
      assertEquals(plainRows, groupedRows, "epoch " + epoch + " uses the rows it uses without grouping");
    }
  }

  @Test
  void lengthGroupingIsAFunctionOfSeedAndEpochThatPadsLess() {
    int[] lengths = lengths(400, 5);
    List<int[]> grouped = draw(new BatchSampler(400, 16, 7, true, 0, 0, lengths, 5), 50);
    assertEquals(render(grouped), render(draw(new BatchSampler(400, 16, 7, true, 0, 0, lengths, 5), 50)));
    assertFalse(sameBatches(grouped, draw(new BatchSampler(400, 16, 8, true, 0, 0, lengths, 5), 50)), "another seed");
    List<int[]> plain = draw(new BatchSampler(400, 16, 7, true, 0, 0), 50);
    long groupedPositions = 0;
    long plainPositions = 0;
    for (int k = 0; k < 50; k++) {
      groupedPositions += BatchSampler.positions(grouped.get(k), lengths, 8);
      plainPositions += BatchSampler.positions(plain.get(k), lengths, 8);
    }
    assertTrue(groupedPositions < 0.7 * plainPositions, "grouped " + groupedPositions + " positions vs "
        + plainPositions + " without grouping (lengths 1..64)");
  }

  /**
   * A grouped run at 4 ranks x microBatch 2 (global batch 16) stopped after 7 steps (in epoch 1)
   * and resumed from (epoch, position) at 2 ranks x 4 micro-batches of 2: the resumed ranks' slices
   * of every step are exactly the uninterrupted run's global batch.
   */
  @Test
  void aGroupedRunResumesAtAnotherWorldSizeWithTheSameGlobalBatches() {
    int[] lengths = lengths(90, 11);
    BatchSampler original = new BatchSampler(90, 16, 3, true, 0, 0, lengths, 2);
    draw(original, 7);
    BatchSampler resumed = new BatchSampler(90, 16, 3, true, original.epoch(), original.position(), lengths, 2);
    int accum = BatchSampler.accumSteps(16, 2, 2);
    for (int step = 0; step < 12; step++) {
      int[] want = original.nextStep();
      int[] got = resumed.nextStep();
      int[] union = new int[16];
      for (int rank = 0; rank < 2; rank++) {
        for (int micro = 0; micro < accum; micro++) {
          int[] slice = BatchSampler.slice(got, micro, rank, 2, 2, new int[2]);
          System.arraycopy(slice, 0, union, (micro * 2 + rank) * 2, 2);
        }
      }
      assertArrayEquals(want, union, "step " + step + " after the resume");
    }
  }

  @Test
  void tokensAndPositionsCountEachMicroBatchAtItsLongestRow() {
    int[] lengths = {3, 1, 5, 2, 2, 2};
    int[] step = {0, 1, 2, 3, 4, 5};
    assertEquals(15, BatchSampler.tokens(step, lengths));
    assertEquals(2 * 3 + 2 * 5 + 2 * 2, BatchSampler.positions(step, lengths, 2));
    assertEquals(6 * 5, BatchSampler.positions(step, lengths, 6));
  }

  /** {@code count} lengths in [1, 64], skewed short as sentences are, from {@code seed}. */
  private static int[] lengths(int count, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int[] lengths = new int[count];
    for (int i = 0; i < count; i++) {
      double u = random.nextDouble();
      lengths[i] = 1 + (int) (63 * u * u);
    }
    return lengths;
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
