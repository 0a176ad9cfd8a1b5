// A rank, where it listens, and how this rank's link to it runs; the unit every
// error message names.
package org.ringtrain.sync;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * Another rank of the ring, its TCP listening address and, for a link over a Unix domain socket,
 * that socket.
 *
 * @param rank       the peer's rank in [0, worldSize)
 * @param address    where the peer listens on TCP for its left neighbour
 * @param unixSocket the Unix domain socket file the link to this peer runs through (the peer's
 *                   own for a right neighbour, this rank's for a left one), or null for TCP
 */
public record Peer(int rank, InetSocketAddress address, Path unixSocket) {

  /** A peer reached over TCP. */
  public Peer(int rank, InetSocketAddress address) {
    this(rank, address, null);
  }

  /** This peer, reached through the Unix domain socket {@code socket}. */
  Peer overUnixSocket(Path socket) {
    return new Peer(rank, address, socket);
  }

  /** Whether the link to this peer runs over a Unix domain socket. */
  public boolean isUnixSocket() {
    return unixSocket != null;
  }

  /**
   * "rank 2 (10.0.0.7:41233)" or "rank 2 (10.0.0.7:41233 via unix socket /tmp/ringtrain-1/ring.sock)":
   * the form every ring error uses.
   */
  @Override
  public String toString() {
    return "rank " + rank + " (" + address.getHostString() + ":" + address.getPort()
        + (unixSocket == null ? "" : " via unix socket " + unixSocket) + ")";
  }
}
