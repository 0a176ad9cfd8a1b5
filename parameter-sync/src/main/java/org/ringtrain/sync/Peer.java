// A rank and where it listens; the unit every error message names.
package org.ringtrain.sync;

import java.net.InetSocketAddress;

/**
 * Another rank of the ring and its listening address.
 *
 * @param rank    the peer's rank in [0, worldSize)
 * @param address where the peer listens for its left neighbour
 */
public record Peer(int rank, InetSocketAddress address) {

  /** "rank 2 (10.0.0.7:41233)": the form every ring error uses. */
  @Override
  public String toString() {
    return "rank " + rank + " (" + address.getHostString() + ":" + address.getPort() + ")";
  }
}
