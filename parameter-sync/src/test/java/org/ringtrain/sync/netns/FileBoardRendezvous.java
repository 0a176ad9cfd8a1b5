// Rendezvous for ranks that are separate processes on one machine (in different network
// namespaces, so nothing but the filesystem is shared): each rank writes its address to a file
// in a directory the launcher made for this ring, then polls until every rank's file is there.
// Test and benchmark tool only; Spark runs use the barrier task context.
package org.ringtrain.sync.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.ringtrain.sync.Rendezvous;
import org.ringtrain.sync.RingAddress;
import org.ringtrain.sync.RingException;

/** A board of {@code rank-<r>.addr} files in one fresh directory per ring. */
public final class FileBoardRendezvous implements Rendezvous {
  private static final long POLL_MILLIS = 20;

  private final Path board;
  private final int rank;
  private final int worldSize;
  private final String advertisedHost;
  private final Duration timeout;

  /**
   * @param board          a directory made for this ring only (stale files would be read as addresses)
   * @param advertisedHost the address this rank listens on and publishes (its host's address)
   * @param timeout        how long {@link #exchange} waits for the other ranks
   */
  public FileBoardRendezvous(Path board, int rank, int worldSize, String advertisedHost, Duration timeout) {
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank must be in [0, worldSize) and worldSize >= 1, but found rank "
          + rank + " of " + worldSize);
    }
    this.board = board;
    this.rank = rank;
    this.worldSize = worldSize;
    this.advertisedHost = advertisedHost;
    this.timeout = timeout;
  }

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int worldSize() {
    return worldSize;
  }

  @Override
  public String advertisedHost() {
    return advertisedHost;
  }

  @Override
  public List<RingAddress> exchange(RingAddress self) throws IOException {
    // Written under a temporary name and renamed, so a reader never sees half an address.
    Path tmp = board.resolve("rank-" + rank + ".tmp");
    Files.writeString(tmp, self.format(), StandardCharsets.UTF_8);
    Files.move(tmp, file(rank), StandardCopyOption.ATOMIC_MOVE);
    long deadline = System.nanoTime() + timeout.toNanos();
    List<RingAddress> all = new ArrayList<>();
    for (int r = 0; r < worldSize; r++) {
      while (!Files.exists(file(r))) {
        if (System.nanoTime() > deadline) {
          throw new RingException(null, RingException.Operation.RENDEZVOUS, "rank " + r + " wrote no address to "
              + board + " within " + timeout.toMillis() + " ms (" + r + " of " + worldSize + " ranks published)");
        }
        sleep();
      }
      all.add(RingAddress.parse(Files.readString(file(r), StandardCharsets.UTF_8), r));
    }
    return all;
  }

  private Path file(int r) {
    return board.resolve("rank-" + r + ".addr");
  }

  private static void sleep() throws RingException {
    try {
      Thread.sleep(POLL_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RingException(null, RingException.Operation.RENDEZVOUS, "interrupted while waiting for peers", e);
    }
  }
}
