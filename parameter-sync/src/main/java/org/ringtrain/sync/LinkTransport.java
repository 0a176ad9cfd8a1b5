// Which kind of socket a ring link may use. The choice is per link and made at
// set-up: the connecting rank picks, the accepting rank accepts either.
package org.ringtrain.sync;

/**
 * How a rank connects to its ring neighbours; {@link RingConfig#transport()}. Default
 * {@link #AUTO}.
 *
 * <p>A link runs over a Unix domain socket only when both of its ranks use {@code AUTO}, both
 * advertise the same host identity (host name plus the kernel's boot id) and the connecting rank
 * can reach the other's socket file; otherwise it runs over TCP. On one host a Unix socket moves
 * bytes with one copy through the kernel instead of a pass through the TCP/IP stack, so a ring of
 * ranks on one host (Spark {@code local[N]}, several executors per machine) runs about twice as
 * fast (docs/benchmarks.md). The handshake, the frames and every timeout are the same on both.
 */
public enum LinkTransport {
  /**
   * Default: a Unix domain socket to neighbours on the same host, TCP to the others, and TCP
   * whenever the socket cannot be created or reached (logged at info).
   */
  AUTO,
  /** Always TCP, also between ranks on one host; this rank creates no Unix socket at all. */
  TCP
}
