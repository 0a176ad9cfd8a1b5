// BatchSampler's promises, without Spark: a permutation per epoch that only (seed, epoch, rank)
// determines, batches that never repeat a sequence within an epoch, the wrap to the next epoch
// when fewer than a batch remain, and an exact continuation from (epoch, cursor) after a resume.
// Not a test of which sequences a rank holds: ranks index their own local sequences, and keeping
// those disjoint across ranks is the partitioner's job (RankBlockPartitioner).
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
  void theSameSeedEpochAndRankGiveTheSameBatches() {
    assertEquals(render(draw(new BatchSampler(50, 4, 7, 1, true, 0, 0), 40)),
        render(draw(new BatchSampler(50, 4, 7, 1, true, 0, 0), 40)));
  }

  @Test
  void anotherSeedOrRankGivesAnotherOrder() {
    List<int[]> base = draw(new BatchSampler(50, 4, 7, 0, true, 0, 0), 12);
    assertFalse(sameBatches(base, draw(new BatchSampler(50, 4, 8, 0, true, 0, 0), 12)), "another seed");
    assertFalse(sameBatches(base, draw(new BatchSampler(50, 4, 7, 1, true, 0, 0), 12)), "another rank");
  }

  @ParameterizedTest(name = "count={0} batch={1}")
  @CsvSource({"48, 4", "50, 4", "7, 7", "9, 2", "1, 1"})
  void everyEpochDrawsDistinctSequencesAndSkipsOnlyTheRemainder(int count, int batch) {
    BatchSampler sampler = new BatchSampler(count, batch, 42, 3, true, 0, 0);
    int perEpoch = count / batch;
    for (long epoch = 0; epoch < 3; epoch++) {
      BitSet seen = new BitSet(count);
      for (int k = 0; k < perEpoch; k++) {
        int[] picked = sampler.next();
        assertEquals(epoch, sampler.epoch(), "batch " + k + " of epoch " + epoch);
        assertEquals(batch, picked.length);
        for (int index : picked) {
          assertTrue(index >= 0 && index < count, "index " + index + " outside [0, " + count + ")");
          assertFalse(seen.get(index), "epoch " + epoch + " drew sequence " + index + " twice");
          seen.set(index);
        }
      }
      assertEquals(perEpoch * batch, seen.cardinality(), "epoch " + epoch + " leaves out only count % batch");
      assertEquals((long) perEpoch * batch, sampler.cursor());
    }
  }

  @Test
  void fewerThanABatchLeftStartsTheNextEpochWithAFreshPermutation() {
    BatchSampler sampler = new BatchSampler(10, 3, 1, 0, true, 0, 0);
    List<int[]> first = draw(sampler, 3);
    assertEquals(0, sampler.epoch());
    assertEquals(9, sampler.cursor());

    List<int[]> second = draw(sampler, 3);
    assertEquals(1, sampler.epoch(), "one sequence was left, less than a batch of 3");
    assertEquals(9, sampler.cursor());
    assertFalse(sameBatches(first, second), "epoch 1 must not repeat epoch 0's order");
    assertEquals(render(draw(new BatchSampler(10, 3, 1, 0, true, 1, 0), 3)), render(second), "epoch 1's order depends only on (seed, epoch, rank)");
  }

  @Test
  void resumingFromEpochAndCursorContinuesTheExactOrder() {
    BatchSampler original = new BatchSampler(23, 4, 99, 2, true, 0, 0);
    draw(original, 7); // crosses into epoch 1 (5 batches per epoch)
    BatchSampler resumed = new BatchSampler(23, 4, 99, 2, true, original.epoch(), original.cursor());
    assertEquals(1, resumed.epoch());
    List<int[]> expected = draw(original, 12);
    List<int[]> actual = draw(resumed, 12);
    for (int k = 0; k < expected.size(); k++) {
      assertArrayEquals(expected.get(k), actual.get(k), "batch " + k + " after the resume");
    }
    assertEquals(original.epoch(), resumed.epoch());
    assertEquals(original.cursor(), resumed.cursor());
  }

  @Test
  void aResumeAtTheEndOfAnEpochWrapsOnTheFirstBatch() {
    BatchSampler sampler = new BatchSampler(8, 4, 5, 0, true, 2, 8);
    sampler.next();
    assertEquals(3, sampler.epoch());
    assertEquals(4, sampler.cursor());
  }

  @Test
  void withoutShuffleBatchesWalkTheSequencesInOrder() {
    BatchSampler sampler = new BatchSampler(7, 3, 123, 4, false, 0, 0);
    assertArrayEquals(new int[] {0, 1, 2}, sampler.next());
    assertArrayEquals(new int[] {3, 4, 5}, sampler.next());
    assertArrayEquals(new int[] {0, 1, 2}, sampler.next(), "sequence 6 is the skipped remainder");
    assertEquals(1, sampler.epoch());
  }

  @Test
  void fewerSequencesThanOneBatchAreRefusedWithWhatToChange() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new BatchSampler(3, 4, 0, 5, true, 0, 0));
    assertTrue(e.getMessage().contains("rank 5 holds 3 training sequences but one micro-batch needs 4"),
        e.getMessage());
    assertTrue(e.getMessage().contains("use a smaller microBatch"), e.getMessage());
  }

  private static List<int[]> draw(BatchSampler sampler, int batches) {
    List<int[]> out = new ArrayList<>();
    for (int k = 0; k < batches; k++) {
      out.add(sampler.next());
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
