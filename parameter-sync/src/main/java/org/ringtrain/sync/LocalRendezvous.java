// Rendezvous for ranks that are threads of one JVM: tests, benchmarks and
// single-machine runs. Not for ranks in different processes.
package org.ringtrain.sync;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * An in-process rendezvous: one shared {@code Group} per ring, one {@link LocalRendezvous} per
 * rank (from {@link Group#forRank(int)}). Ranks advertise {@code 127.0.0.1}.
 */
public final class LocalRendezvous implements Rendezvous {

  /** The shared board of one ring's addresses. */
  public static final class Group {
    private final RingAddress[] addresses;
    private final CountDownLatch published;
    private final Duration timeout;

    /** A group for {@code worldSize} ranks whose exchange waits at most {@code timeout}. */
    public Group(int worldSize, Duration timeout) {
      if (worldSize < 1) {
        throw new IllegalArgumentException("worldSize must be at least 1, but found " + worldSize);
      }
      this.addresses = new RingAddress[worldSize];
      this.published = new CountDownLatch(worldSize);
      this.timeout = timeout;
    }

    /** The rendezvous handle of {@code rank}. */
    public LocalRendezvous forRank(int rank) {
      if (rank < 0 || rank >= addresses.length) {
        throw new IllegalArgumentException("rank must be in [0, " + addresses.length + "), but found " + rank);
      }
      return new LocalRendezvous(this, rank);
    }
  }

  private final Group group;
  private final int rank;

  private LocalRendezvous(Group group, int rank) {
    this.group = group;
    this.rank = rank;
  }

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int worldSize() {
    return group.addresses.length;
  }

  @Override
  public String advertisedHost() {
    return "127.0.0.1";
  }

  @Override
  public List<RingAddress> exchange(RingAddress self) throws IOException {
    synchronized (group.addresses) {
      if (group.addresses[rank] != null) {
        throw new IllegalStateException("rank " + rank + " already published its address to this group");
      }
      group.addresses[rank] = self;
    }
    group.published.countDown();
    try {
      if (!group.published.await(group.timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new RingException(null, RingException.Operation.RENDEZVOUS, "only "
            + (worldSize() - group.published.getCount()) + " of " + worldSize()
            + " ranks published their address within " + group.timeout.toMillis() + " ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RingException(null, RingException.Operation.RENDEZVOUS, "interrupted while waiting for peers", e);
    }
    synchronized (group.addresses) {
      return List.copyOf(Arrays.asList(group.addresses));
    }
  }
}
