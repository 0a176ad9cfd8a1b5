// Test fixture: runs every rank of a ring as a thread of this JVM over real
// sockets (Unix domain sockets by default, loopback TCP on request), collects
// the threads' exceptions and rethrows the first, and closes every
// communicator so tests do not leak ports or threads. A hook in the rendezvous
// lets a test change the addresses, or act (e.g. connect strangers) in the
// moment after every rank listens and before any connects.
package org.ringtrain.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

final class RingHarness {
  static final RingSecret SECRET = RingSecret.generate();

  /**
   * What a rank's rendezvous does with the exchanged addresses before the rank sees them. It runs
   * on that rank's thread after every rank has published and before any rank connects.
   */
  @FunctionalInterface
  interface ExchangeHook {
    List<RingAddress> apply(int rank, List<RingAddress> all) throws IOException;
  }

  /** What one rank does with its connected communicator; returns a per-rank result. */
  @FunctionalInterface
  interface RankBody<T> {
    T run(RingCommunicator ring) throws Exception;
  }

  private RingHarness() {
  }

  /** A config for tests: loopback, short timeouts, the default transport (AUTO: Unix sockets here). */
  static RingConfig config(String runId) {
    return RingConfig.defaults(runId, SECRET).withBindHost("127.0.0.1")
        .withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(30));
  }

  /** {@link #config(String)} with the given transport. */
  static RingConfig config(String runId, LinkTransport transport) {
    return config(runId).withTransport(transport);
  }

  /** Connects {@code worldSize} ranks with the same config and runs {@code body} on each. */
  static <T> List<T> run(int worldSize, RingConfig config, RankBody<T> body) throws Exception {
    return run(worldSize, rank -> config, body);
  }

  /** Connects {@code worldSize} ranks, rank r with {@code configs.apply(r)}, and runs {@code body} on each. */
  static <T> List<T> run(int worldSize, IntFunction<RingConfig> configs, RankBody<T> body) throws Exception {
    return run(worldSize, configs, UnaryOperator.identity(), body);
  }

  /**
   * Like {@link #run(int, IntFunction, RankBody)}, every rank's rendezvous passing the exchanged
   * addresses through {@code tamper} (the same list for every rank) before the ranks see them.
   */
  static <T> List<T> run(int worldSize, IntFunction<RingConfig> configs, UnaryOperator<List<RingAddress>> tamper,
      RankBody<T> body) throws Exception {
    return runHooked(worldSize, configs, (rank, all) -> tamper.apply(all), body);
  }

  /** Like {@link #run(int, IntFunction, UnaryOperator, RankBody)}, with a hook that knows the rank. */
  static <T> List<T> runHooked(int worldSize, IntFunction<RingConfig> configs, ExchangeHook hook, RankBody<T> body)
      throws Exception {
    LocalRendezvous.Group group = new LocalRendezvous.Group(worldSize, Duration.ofSeconds(30));
    ExecutorService pool = Executors.newFixedThreadPool(worldSize);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int r = 0; r < worldSize; r++) {
        int rank = r;
        futures.add(pool.submit(() -> {
          Rendezvous rendezvous = hooked(group.forRank(rank), hook);
          try (RingCommunicator ring = RingCommunicator.connect(configs.apply(rank), rendezvous)) {
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

  /** {@code inner} with its exchanged addresses passed through {@code hook}. */
  static Rendezvous hooked(Rendezvous inner, ExchangeHook hook) {
    return new Rendezvous() {
      @Override
      public int rank() {
        return inner.rank();
      }

      @Override
      public int worldSize() {
        return inner.worldSize();
      }

      @Override
      public String advertisedHost() {
        return inner.advertisedHost();
      }

      @Override
      public List<RingAddress> exchange(RingAddress self) throws IOException {
        return hook.apply(inner.rank(), inner.exchange(self));
      }
    };
  }

  /** The ringtrain socket directories left in java.io.tmpdir (there should be none outside a set-up). */
  static List<String> socketDirectoriesLeft() throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    try (Stream<Path> all = Files.list(tmp)) {
      return all.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(UnixSocketListener.DIRECTORY_PREFIX)).sorted().toList();
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
