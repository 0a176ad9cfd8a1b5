// Times ringtrain's all-reduce for one world size and one ring config over a
// list of vector sizes, every rank a thread of this JVM, linked over Unix domain
// sockets or loopback TCP as the config's transport decides.
// It checks the sum on a few elements so a broken ring cannot report a fast
// time, but it is not a correctness test (parameter-sync's tests are).
package org.ringtrain.bench.ring;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.ringtrain.sync.LocalRendezvous;
import org.ringtrain.sync.ReduceOp;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingConfig;

/** One ring, connected once, timed at each size: warm-up iterations, then the median of the timed ones. */
final class RingRun {
  /** Floats written per bulk put while refilling a rank's vector. */
  private static final int FILL_FLOATS = 1 << 16;

  /** Median ms per size, and the links the ring actually used: "unix", "tcp" or "mixed". */
  record Result(double[] medianMs, String links) {
  }

  private RingRun() {
  }

  /**
   * Returns the median time in ms of an all-reduce (SUM) of {@code sizesMib[i]} MiB of float32 on
   * {@code worldSize} ranks. An iteration's time is the slowest rank's, from leaving a barrier to
   * holding the sum; each rank refills its vector with {@code rank + 1} before the barrier
   * (untimed), so every iteration reduces the same values.
   */
  static Result medianMs(int worldSize, RingConfig config, int[] sizesMib, int warmup, int iters)
      throws Exception {
    boolean[] unixLinks = new boolean[2 * worldSize]; // each rank's left and right link
    int maxMib = 0;
    for (int s : sizesMib) {
      maxMib = Math.max(maxMib, s);
    }
    long maxBytes = (long) maxMib << 20;
    long[][][] nanos = new long[sizesMib.length][iters][worldSize]; // [size][iteration][rank]
    LocalRendezvous.Group group = new LocalRendezvous.Group(worldSize, Duration.ofSeconds(60));
    ExecutorService pool = Executors.newFixedThreadPool(worldSize);
    try {
      List<Future<Void>> ranks = new ArrayList<>();
      for (int r = 0; r < worldSize; r++) {
        int rank = r;
        ranks.add(pool.submit(() -> {
          ByteBuffer buffer = ByteBuffer.allocateDirect((int) maxBytes).order(ByteOrder.LITTLE_ENDIAN);
          try (RingCommunicator ring = RingCommunicator.connect(config, group.forRank(rank))) {
            unixLinks[2 * rank] = ring.leftPeer().isUnixSocket();
            unixLinks[2 * rank + 1] = ring.rightPeer().isUnixSocket();
            for (int s = 0; s < sizesMib.length; s++) {
              int count = (sizesMib[s] << 20) / Float.BYTES;
              for (int i = 0; i < warmup + iters; i++) {
                fill(buffer, count, rank + 1);
                ring.barrier();
                long t0 = System.nanoTime();
                ring.allReduce(buffer, 0, count, ReduceOp.SUM);
                long t1 = System.nanoTime();
                if (i >= warmup) {
                  nanos[s][i - warmup][rank] = t1 - t0;
                }
              }
              check(buffer, count, worldSize, rank, sizesMib[s]);
            }
          }
          return null;
        }));
      }
      for (Future<Void> f : ranks) {
        try {
          f.get();
        } catch (ExecutionException e) {
          throw e.getCause() instanceof Exception cause ? cause : e;
        }
      }
    } finally {
      pool.shutdownNow();
    }
    double[] medians = new double[sizesMib.length];
    for (int s = 0; s < sizesMib.length; s++) {
      long[] slowest = new long[iters];
      for (int i = 0; i < iters; i++) {
        for (int r = 0; r < worldSize; r++) {
          slowest[i] = Math.max(slowest[i], nanos[s][i][r]);
        }
      }
      medians[s] = Timing.medianMs(slowest);
    }
    int unix = 0;
    for (boolean u : unixLinks) {
      unix += u ? 1 : 0;
    }
    return new Result(medians, unix == unixLinks.length ? "unix" : unix == 0 ? "tcp" : "mixed");
  }

  private static void fill(ByteBuffer buffer, int count, float value) {
    float[] block = new float[Math.min(FILL_FLOATS, Math.max(count, 1))];
    Arrays.fill(block, value);
    FloatBuffer floats = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear().asFloatBuffer();
    for (int at = 0; at < count; at += block.length) {
      floats.put(block, 0, Math.min(block.length, count - at));
    }
  }

  /** The sum of rank + 1 over all ranks is a small integer, exact in float32 and in bf16. */
  private static void check(ByteBuffer buffer, int count, int worldSize, int rank, int mib) {
    float expected = worldSize * (worldSize + 1) / 2f;
    int[] probes = {0, count / 3, count / 2, count - 1};
    for (int index : probes) {
      float got = buffer.getFloat(index * Float.BYTES);
      if (got != expected) {
        throw new IllegalStateException("ring sum wrong at N=" + worldSize + ", " + mib + " MiB, rank " + rank
            + ", element " + index + ": expected " + expected + " but found " + got);
      }
    }
  }
}
