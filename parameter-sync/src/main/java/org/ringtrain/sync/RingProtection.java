// How ring frames are protected after the handshake. The choice is one setting
// of a ring (RingConfig.protection); every rank of a ring must use the same one,
// which the handshake checks. It is only the choice: FrameGuard does the work.
package org.ringtrain.sync;

/**
 * What protects the frames of a ring once its links have authenticated; {@link
 * RingConfig#protection()}. Default {@link #NONE}.
 *
 * <p>The handshake proves that both ends hold the run's secret, but without protection anyone on
 * the path between two ranks can read the gradients that follow and alter them, and an altered
 * partial sum reaches every rank identically, so the replica check cannot see it. {@code NONE}
 * is right where nobody else is on the path: ranks on one host (loopback, Unix domain sockets)
 * or a private, trusted network. Across hosts on a network others share, use {@link #INTEGRITY}
 * (or {@link #ENCRYPTION} when the gradients themselves are confidential). Both use AES-256-GCM
 * from the JDK with one key per link and direction, derived from the run secret and both sides'
 * fresh handshake nonces, and a per-frame counter as the GCM nonce, so an altered, dropped,
 * replayed or reordered frame fails its tag and the collective fails with a {@link RingException}
 * of operation {@code INTEGRITY} naming the link. docs/benchmarks.md measures what each costs.
 */
public enum RingProtection {
  /**
   * Default: frames go out as they are, written straight from the caller's buffer (no copy). A
   * byte altered on the path is summed into the result on every rank unnoticed.
   */
  NONE,
  /**
   * Every frame carries a 16-byte AES-GCM tag over its header and payload (the payload stays
   * readable on the wire and is still written straight from the caller's buffer).
   */
  INTEGRITY,
  /**
   * The payload is encrypted with AES-GCM, the header authenticated with it: nobody on the path
   * can read or alter the gradients. Costs a copy of every payload on both sides.
   */
  ENCRYPTION
}
