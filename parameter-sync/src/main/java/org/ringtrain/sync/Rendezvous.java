// How ranks learn each other's listening addresses. The ring needs exactly
// one exchange per connection set-up; implementations must not be used per step.
package org.ringtrain.sync;

import java.io.IOException;
import java.util.List;

/**
 * Exchanges listening addresses between the ranks of one ring. Every rank calls
 * {@link #exchange} once; the call returns when all ranks have published.
 */
public interface Rendezvous {

  /** This rank, in [0, worldSize). */
  int rank();

  /** Number of ranks in the ring. */
  int worldSize();

  /**
   * The host this rank should listen on and advertise when the config names none: the
   * executor's address in Spark, loopback in process.
   */
  String advertisedHost();

  /**
   * Publishes {@code self} and returns every rank's address, indexed by rank. Implementations
   * that carry strings use {@link RingAddress#format()} and {@link RingAddress#parse}; one that
   * can carry only "host:port" may publish {@code self.tcp()} and return
   * {@link RingAddress#tcpOnly} addresses, and its ranks then link over TCP.
   *
   * @throws IOException when the exchange fails or times out
   */
  List<RingAddress> exchange(RingAddress self) throws IOException;
}
