// The one exception type for transport and protocol failures of the ring.
// Not used for bad arguments (IllegalArgumentException) or lifecycle misuse
// (IllegalStateException).
package org.ringtrain.sync;

import java.io.IOException;

/**
 * A collective or the connection set-up failed: a peer is dead, silent, closed the connection,
 * failed the handshake or sent a frame that does not match the protocol. The message names the
 * peer's rank and address and the operation; {@link #peer()} and {@link #operation()} expose
 * them. After a RingException the communicator is unusable and must be closed.
 */
public final class RingException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What the rank was doing when it failed. */
  public enum Operation {
    /** Opening the listening socket or exchanging addresses. */
    RENDEZVOUS,
    /** Establishing the TCP connection. */
    CONNECT,
    /** Accepting the left neighbour's connection. */
    ACCEPT,
    /** The authenticated handshake. */
    HANDSHAKE,
    /** Reading frame bytes. */
    READ,
    /** Writing frame bytes. */
    WRITE,
    /** No progress within the configured timeout. */
    TIMEOUT,
    /** The peer closed its connection. */
    CLOSED,
    /** The peer sent bytes that break the protocol. */
    PROTOCOL,
    /**
     * A protected frame ({@link RingProtection#INTEGRITY} or {@link RingProtection#ENCRYPTION})
     * failed its authentication tag: altered in transit, or the link keys disagree.
     */
    INTEGRITY
  }

  private final transient Peer peer;
  private final Operation operation;

  /** A failure involving {@code peer} (may be null when no single peer is to blame). */
  public RingException(Peer peer, Operation operation, String message, Throwable cause) {
    super(operation.name().toLowerCase(java.util.Locale.ROOT) + " failed"
        + (peer == null ? "" : " with " + peer) + ": " + message, cause);
    this.peer = peer;
    this.operation = operation;
  }

  /**
   * The same failure seen again from another thread (the caller of a collective): same peer,
   * operation and message, with {@code original} as the cause so both stack traces survive.
   */
  RingException(RingException original, String prefix) {
    super(prefix + original.getMessage(), original);
    this.peer = original.peer;
    this.operation = original.operation;
  }

  /** A failure involving {@code peer}, without an underlying cause. */
  public RingException(Peer peer, Operation operation, String message) {
    this(peer, operation, message, null);
  }

  /** The peer involved, or null. */
  public Peer peer() {
    return peer;
  }

  /** What failed. */
  public Operation operation() {
    return operation;
  }
}
