// Test fixture: runs every rank of a ring as a thread of this JVM over real
// loopback TCP, collects the threads' exceptions and rethrows the first, and
// closes every communicator so tests do not leak ports or threads.
package org.ringtrain.sync;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

final class RingHarness {
  static final RingSecret SECRET = RingSecret.generate();

  /** What one rank does with its connected communicator; returns a per-rank result. */
  @FunctionalInterface
  interface RankBody<T> {
    T run(RingCommunicator ring) throws Exception;
  }

  private RingHarness() {
  }

  /** A config for tests: loopback, short timeouts. */
  static RingConfig config(String runId) {
    return RingConfig.defaults(runId, SECRET).withBindHost("127.0.0.1")
        .withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(30));
  }

  /** Connects {@code worldSize} ranks with the same config and runs {@code body} on each. */
  static <T> List<T> run(int worldSize, RingConfig config, RankBody<T> body) throws Exception {
    return run(worldSize, rank -> config, body);
  }

  /** Connects {@code worldSize} ranks, rank r with {@code configs.apply(r)}, and runs {@code body} on each. */
  static <T> List<T> run(int worldSize, IntFunction<RingConfig> configs, RankBody<T> body) throws Exception {
    LocalRendezvous.Group group = new LocalRendezvous.Group(worldSize, Duration.ofSeconds(30));
    ExecutorService pool = Executors.newFixedThreadPool(worldSize);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int r = 0; r < worldSize; r++) {
        int rank = r;
        futures.add(pool.submit(() -> {
          try (RingCommunicator ring = RingCommunicator.connect(configs.apply(rank), group.forRank(rank))) {
            return body.run(ring);
          }
        }));
      }
      List<T> results = new ArrayList<>();
      Exception first = null;
      for (Future<T> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          results.add(null);
          if (first == null && e.getCause() instanceof Exception cause) {
            first = cause;
          } else if (first == null) {
            first = e;
          }
        }
      }
      if (first != null) {
        throw first;
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Waits (up to {@code maxWait}) until no thread whose name starts with "ringtrain-ring" is alive. */
  static List<String> ringThreadsAfter(Duration maxWait) throws InterruptedException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    List<String> alive;
    do {
      alive = new ArrayList<>();
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        if (t.isAlive() && t.getName().startsWith("ringtrain-ring")) {
          alive.add(t.getName());
        }
      }
      if (alive.isEmpty()) {
        return alive;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    return alive;
  }
}
