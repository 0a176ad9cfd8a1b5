// GradientBuckets over a real ring (every rank a thread of this JVM, real sockets on this host):
// the buckets cover the gradient buffer exactly once from its end towards its start, respect the
// size bound, never split a backward notice, are identical on every rank, and every element ends
// up averaged; scatter-only buckets (sharded optimizer) average the owned ranges, which partition
// the buffer, and the all-gather over them completes every rank's copy. Not a test of the ring's arithmetic (parameter-sync's RingCommunicatorTest) or of
// the overlap's timing.
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.ringtrain.driver.train.GradientBuckets.Bucket;
import org.ringtrain.sync.LocalRendezvous;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingConfig;
import org.ringtrain.sync.RingSecret;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GradientBucketsTest {
  private static final int BUCKET_ELEMENTS = 64;
  private static final long BUCKET_BYTES = (long) BUCKET_ELEMENTS * Float.BYTES;
  /** Sizes of backward's notices, walked cyclically from the end of the buffer: smaller, equal and larger than a bucket. */
  private static final int[] NOTICES = {37, 5, 130, 1, 64, 63};

  /** What one rank does with its connected communicator. */
  @FunctionalInterface
  private interface RankBody<T> {
    T run(RingCommunicator ring) throws Exception;
  }

  @ParameterizedTest(name = "worldSize={0} elements={1}")
  @CsvSource({"1, 1003", "2, 1003", "3, 1003", "2, 1", "2, 64", "3, 65"})
  void bucketsCoverTheBufferOnceFromItsEndAndEveryElementIsAveraged(int worldSize, int elements) throws Exception {
    List<List<Bucket>> perRank = onRing(worldSize, ring -> {
      ByteBuffer grads = filled(elements, ring.rank());
      GradientBuckets buckets = new GradientBuckets(ring, grads, elements, BUCKET_BYTES);
      List<Long> boundaries = new ArrayList<>();
      int to = elements;
      for (int k = 0; to > 0; k++) {
        int from = Math.max(0, to - NOTICES[k % NOTICES.length]);
        buckets.ready(from, to);
        boundaries.add((long) from);
        to = from;
      }
      buckets.finish();
      // Rank r holds r * 1000 + i at index i, so the average over ranks is 500 * (worldSize - 1) + i.
      for (int i = 0; i < elements; i++) {
        float expected = 500f * (worldSize - 1) + i;
        if (grads.getFloat(i * Float.BYTES) != expected) {
          fail("rank " + ring.rank() + " index " + i + ": expected " + expected + " but found "
              + grads.getFloat(i * Float.BYTES));
        }
      }
      List<Bucket> submitted = buckets.submitted();
      assertEquals(submitted.size(), buckets.buckets());
      for (Bucket b : submitted) {
        assertTrue(boundaries.contains(b.from()), "bucket " + b + " splits a backward notice; notices begin at "
            + boundaries);
      }
      return submitted;
    });

    List<Bucket> buckets = perRank.get(0);
    assertCoversOnceFromTheEnd(buckets, elements);
    int largestNotice = 130;
    for (int i = 0; i < buckets.size(); i++) {
      long size = buckets.get(i).to() - buckets.get(i).from();
      if (i < buckets.size() - 1) {
        assertTrue(size >= BUCKET_ELEMENTS, "bucket " + i + " " + buckets.get(i) + " is below the bucket size "
            + BUCKET_ELEMENTS + " although more gradients followed");
      }
      assertTrue(size < BUCKET_ELEMENTS + largestNotice, "bucket " + i + " " + buckets.get(i)
          + " waited past the bucket size for more than one notice");
    }
    for (int r = 1; r < worldSize; r++) {
      assertEquals(buckets, perRank.get(r), "rank " + r + " issued other buckets than rank 0");
    }
  }

  @ParameterizedTest(name = "worldSize={0} elements={1}")
  @CsvSource({"1, 1003", "2, 1003", "3, 1003", "4, 3"})
  void scatterOnlyAveragesTheOwnedRangesWhichPartitionTheBufferAndAllGatherCompletesIt(int worldSize,
      int elements) throws Exception {
    List<long[][]> perRank = onRing(worldSize, ring -> {
      ByteBuffer grads = filled(elements, ring.rank());
      GradientBuckets buckets = new GradientBuckets(ring, grads, elements, BUCKET_BYTES, true);
      int to = elements;
      for (int k = 0; to > 0; k++) {
        int from = Math.max(0, to - NOTICES[k % NOTICES.length]);
        buckets.ready(from, to);
        to = from;
      }
      buckets.finish();
      long[][] owned = buckets.ownedRanges();
      for (int r = 0; r < owned[0].length; r++) {
        for (long i = owned[0][r]; i < owned[1][r]; i++) {
          assertEquals(500f * (worldSize - 1) + i, grads.getFloat((int) i * Float.BYTES),
              "rank " + ring.rank() + ", owned index " + i);
        }
      }
      // Stand-in for the sharded update: the owner writes its elements, then the all-gather spreads them.
      for (int r = 0; r < owned[0].length; r++) {
        for (long i = owned[0][r]; i < owned[1][r]; i++) {
          grads.putFloat((int) i * Float.BYTES, -i);
        }
      }
      buckets.allGather(grads);
      for (int i = 0; i < elements; i++) {
        assertEquals(-i, grads.getFloat(i * Float.BYTES), "rank " + ring.rank() + ", index " + i + " after the gather");
      }
      return owned;
    });
    List<long[]> all = new ArrayList<>();
    for (long[][] owned : perRank) {
      for (int r = 0; r < owned[0].length; r++) {
        all.add(new long[] {owned[0][r], owned[1][r]});
      }
    }
    all.sort((a, b) -> Long.compare(a[0], b[0]));
    long next = 0;
    for (long[] range : all) {
      if (range[0] == range[1]) {
        continue;
      }
      assertEquals(next, range[0], "the ranks' owned ranges must partition the buffer");
      next = range[1];
    }
    assertEquals(elements, next);
  }

  @Test
  void oneElementNoticesMakeBucketsOfExactlyTheBucketSizeAndARemainderAtTheStart() throws Exception {
    int elements = 1000;
    List<Bucket> buckets = onRing(1, ring -> {
      GradientBuckets b = new GradientBuckets(ring, filled(elements, 0), elements, BUCKET_BYTES);
      for (int i = elements; i > 0; i--) {
        b.ready(i - 1, i);
      }
      b.finish();
      return b.submitted();
    }).get(0);

    assertCoversOnceFromTheEnd(buckets, elements);
    assertEquals((elements + BUCKET_ELEMENTS - 1) / BUCKET_ELEMENTS, buckets.size());
    for (int i = 0; i < buckets.size() - 1; i++) {
      assertEquals(BUCKET_ELEMENTS, buckets.get(i).to() - buckets.get(i).from(), "bucket " + i);
    }
    assertEquals(new Bucket(0, elements % BUCKET_ELEMENTS), buckets.get(buckets.size() - 1));
  }

  @Test
  void aNoticeLargerThanABucketGoesOutWholeAndTheRestWaitsForFinish() throws Exception {
    List<Bucket> buckets = onRing(1, ring -> {
      GradientBuckets b = new GradientBuckets(ring, filled(500, 0), 500, BUCKET_BYTES);
      b.ready(100, 500);
      assertEquals(List.of(new Bucket(100, 500)), b.submitted(), "a full bucket is submitted at once");
      b.ready(60, 100);
      assertEquals(1, b.buckets(), "40 elements stay pending below the 64-element bucket size");
      b.ready(0, 60);
      b.finish();
      return b.submitted();
    }).get(0);
    assertEquals(List.of(new Bucket(100, 500), new Bucket(0, 100)), buckets);
  }

  @Test
  void aBucketSizeBelowOneFloatStillReducesOneElementPerBucket() throws Exception {
    List<Bucket> buckets = onRing(1, ring -> {
      GradientBuckets b = new GradientBuckets(ring, filled(3, 0), 3, 1);
      b.ready(2, 3);
      b.ready(0, 2);
      b.finish();
      return b.submitted();
    }).get(0);
    assertEquals(List.of(new Bucket(2, 3), new Bucket(0, 2)), buckets);
  }

  @Test
  void noticesThatDoNotContinueFromTheEndOfTheBufferAreRefused() throws Exception {
    onRing(1, ring -> {
      GradientBuckets fromStart = new GradientBuckets(ring, filled(100, 0), 100, BUCKET_BYTES);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> fromStart.ready(0, 10));
      assertTrue(e.getMessage().contains("got [0, 10) after [100, ...)"), e.getMessage());

      GradientBuckets gap = new GradientBuckets(ring, filled(100, 0), 100, BUCKET_BYTES);
      gap.ready(90, 100);
      e = assertThrows(IllegalStateException.class, () -> gap.ready(50, 80));
      assertTrue(e.getMessage().contains("contiguous from the end of the buffer"), e.getMessage());

      GradientBuckets reversed = new GradientBuckets(ring, filled(100, 0), 100, BUCKET_BYTES);
      assertThrows(IllegalStateException.class, () -> reversed.ready(100, 90));
      return null;
    });
  }

  @Test
  void aBackwardThatStopsBeforeTheStartOfTheBufferIsRefusedAtFinish() throws Exception {
    onRing(1, ring -> {
      GradientBuckets b = new GradientBuckets(ring, filled(100, 0), 100, BUCKET_BYTES);
      b.ready(40, 100);
      IllegalStateException e = assertThrows(IllegalStateException.class, b::finish);
      assertTrue(e.getMessage().contains("elements [0, 40) were never reported ready"), e.getMessage());
      return null;
    });
  }

  @Test
  void anEmptyBufferSubmitsNothing() throws Exception {
    onRing(2, ring -> {
      GradientBuckets b = new GradientBuckets(ring, filled(0, ring.rank()), 0, BUCKET_BYTES);
      b.finish();
      assertEquals(0, b.buckets());
      assertEquals(0.0, b.commSpanMs());
      return null;
    });
  }

  private static void assertCoversOnceFromTheEnd(List<Bucket> buckets, long elements) {
    long expectedTo = elements;
    for (int i = 0; i < buckets.size(); i++) {
      Bucket b = buckets.get(i);
      assertEquals(expectedTo, b.to(), "bucket " + i + " " + b + " must end where the previous one began");
      assertTrue(b.from() < b.to(), "bucket " + i + " " + b + " is empty");
      expectedTo = b.from();
    }
    assertEquals(0, expectedTo, "the buckets " + buckets + " leave [0, " + expectedTo + ") unreduced");
  }

  /** A direct little-endian buffer of {@code elements} floats, rank r holding r * 1000 + i at index i. */
  private static ByteBuffer filled(int elements, int rank) {
    ByteBuffer b = ByteBuffer.allocateDirect(elements * Float.BYTES).order(ByteOrder.nativeOrder());
    for (int i = 0; i < elements; i++) {
      b.putFloat(i * Float.BYTES, rank * 1000f + i);
    }
    return b;
  }

  /** Connects {@code worldSize} ranks on loopback, runs {@code body} on each, rethrows the first failure. */
  private static <T> List<T> onRing(int worldSize, RankBody<T> body) throws Exception {
    RingConfig config = RingConfig.defaults("gradient-buckets-test", RingSecret.generate()).withBindHost("127.0.0.1")
        .withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(20));
    LocalRendezvous.Group group = new LocalRendezvous.Group(worldSize, Duration.ofSeconds(20));
    ExecutorService pool = Executors.newFixedThreadPool(worldSize);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int r = 0; r < worldSize; r++) {
        LocalRendezvous rendezvous = group.forRank(r);
        futures.add(pool.submit(() -> {
          try (RingCommunicator ring = RingCommunicator.connect(config, rendezvous)) {
            return body.run(ring);
          }
        }));
      }
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          if (e.getCause() instanceof Exception cause) {
            throw cause;
          }
          throw (Error) e.getCause();
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }
}
