// The acceptor's side of one incoming handshake (messages in Handshake), as a
// state machine over a non-blocking channel. LeftNeighbourAcceptor drives many
// at once from one selector, so a connection that stalls, resets or sends
// garbage holds nothing but its own slot, and only until its deadline. It
// reads no more than the next expected message, so a stranger cannot make it
// allocate more than one HELLO (the run id length is checked first).
//
// The acceptor answers every HELLO of its own protocol version with its HELLO
// and MAC, also when the HELLO names another run, rank or codec, and answers a
// HELLO of another version with its bare HELLO: the connector then sees the
// mismatch itself and reports it, since whatever fails here is only dropped.
// Not thread-safe; one instance per connection.
package org.ringtrain.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.security.MessageDigest;

/** One incoming connection's handshake, advanced whenever its channel is ready. */
final class AcceptorHandshake {
  /** Where a handshake stands. */
  enum Outcome {
    /** Still waiting for the connector or for its socket buffer. */
    PENDING,
    /** The connector is the expected neighbour and proved the secret; the verdict byte is sent. */
    AUTHENTICATED,
    /** Dropped; {@link #rejection()} says why. The caller closes the channel. */
    REJECTED
  }

  private enum Step {
    /** Reading magic, version and run id length. */
    PREFIX,
    /** Reading the rest of the connector's HELLO. */
    HELLO,
    /** This rank's HELLO and MAC go out; reading the connector's MAC. */
    MAC,
    /** Authenticated; the verdict byte goes out. */
    VERDICT,
    /** A HELLO of another version: this rank's HELLO goes out and the connector should hang up. */
    REFUSING,
    /** Authenticated or rejected. */
    DONE
  }

  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

  private final Handshake handshake;
  private final SocketChannel ch;
  private final Peer expected;
  private final long deadline;
  private Step step = Step.PREFIX;
  private ByteBuffer in = ByteBuffer.allocate(Handshake.PREFIX_BYTES);
  private ByteBuffer out = NOTHING;
  private ByteBuffer prefix;
  private byte[] helloC;
  private byte[] helloA;
  /** Why this connection will be dropped once the connector has had its say, or null. */
  private String problem;
  private String rejection;
  private long received;

  /** Handshakes {@code ch}, which must be non-blocking, as this rank with {@code expected} as the connector. */
  AcceptorHandshake(Handshake handshake, SocketChannel ch, Peer expected, long deadlineNanos) {
    this.handshake = handshake;
    this.ch = ch;
    this.expected = expected;
    this.deadline = deadlineNanos;
  }

  SocketChannel channel() {
    return ch;
  }

  /** The neighbour this connection must turn out to be, on the listener it arrived on. */
  Peer expected() {
    return expected;
  }

  /** {@link System#nanoTime()} by which the connector must have authenticated. */
  long deadline() {
    return deadline;
  }

  /**
   * The key that seals the connector's frames to this rank ({@link FrameGuard#linkKey}); only after
   * {@link Outcome#AUTHENTICATED}.
   */
  byte[] linkKey() {
    if (step != Step.DONE || rejection != null) {
      throw new IllegalStateException("the link key exists only once the connector has authenticated");
    }
    return FrameGuard.linkKey(handshake.config(), helloC, helloA);
  }

  /** Why the connection was rejected; null unless {@link Outcome#REJECTED}. */
  String rejection() {
    return rejection;
  }

  /** The selection interest for the current step. */
  int interestOps() {
    int ops = out.hasRemaining() ? SelectionKey.OP_WRITE : 0;
    return step == Step.VERDICT || step == Step.DONE ? ops : ops | SelectionKey.OP_READ;
  }

  /**
   * Writes and reads whatever the channel allows now and moves the handshake on.
   *
   * @throws RingException only when writing the verdict to an authenticated neighbour fails
   */
  Outcome advance() throws RingException {
    if (step == Step.DONE) {
      return rejection == null ? Outcome.AUTHENTICATED : Outcome.REJECTED;
    }
    try {
      flush();
      while (step != Step.VERDICT && step != Step.DONE) {
        int n = ch.read(in);
        if (n < 0) {
          return reject(closedReason());
        }
        if (n == 0) {
          break;
        }
        received += n;
        if (!in.hasRemaining()) {
          consume();
        }
      }
      flush();
    } catch (IOException e) {
      if (step == Step.VERDICT) {
        throw new RingException(expected, RingException.Operation.WRITE, "writing handshake verdict: " + e, e);
      }
      return reject(problem != null ? problem : "the connection failed after " + received + " bytes: " + e.getMessage());
    }
    if (step == Step.VERDICT && !out.hasRemaining()) {
      step = Step.DONE;
      return Outcome.AUTHENTICATED;
    }
    return step == Step.DONE ? Outcome.REJECTED : Outcome.PENDING;
  }

  /** Rejects the connection because its deadline passed. */
  Outcome expire() {
    String timeout = "did not complete the handshake within " + handshake.config().handshakeTimeout().toMillis()
        + " ms (" + received + " bytes received)";
    return reject(problem == null ? timeout : problem + "; then it " + timeout);
  }

  /** {@link #in} is full: act on the message it holds. */
  private void consume() {
    switch (step) {
      case PREFIX -> {
        prefix = in;
        String magic = Handshake.magicProblem(prefix);
        if (magic != null) {
          reject(magic);
        } else if (handshake.versionProblem(prefix) != null) {
          // Tell it which version this rank speaks; nothing it sends from here on is read.
          problem = handshake.versionProblem(prefix);
          send(handshake.hello());
          step = Step.REFUSING;
          in = ByteBuffer.allocate(256);
        } else if (handshake.prefixProblem(prefix) != null) {
          reject(handshake.prefixProblem(prefix));
        } else {
          in = ByteBuffer.allocate(Handshake.helloBytes(prefix) - Handshake.PREFIX_BYTES);
          step = Step.HELLO;
        }
      }
      case HELLO -> {
        helloC = ByteBuffer.allocate(Handshake.PREFIX_BYTES + in.capacity()).put(prefix.array()).put(in.array())
            .array();
        problem = handshake.helloProblem(helloC, expected.rank());
        helloA = handshake.hello();
        send(helloA, handshake.mac(Handshake.ACCEPTOR_ROLE, helloC, helloA));
        in = ByteBuffer.allocate(Handshake.MAC_BYTES);
        step = Step.MAC;
      }
      case MAC -> {
        if (problem != null) {
          reject(problem);
        } else if (!MessageDigest.isEqual(in.array(), handshake.mac(Handshake.CONNECTOR_ROLE, helloC, helloA))) {
          reject("it did not prove knowledge of the run secret (wrong MAC)");
        } else {
          send(new byte[] {Handshake.ACCEPTED});
          step = Step.VERDICT;
        }
      }
      case REFUSING -> in.clear();
      default -> throw new IllegalStateException("no input expected in step " + step);
    }
  }

  /** Why the connector's close, which ended the handshake in the current step, means it is no neighbour. */
  private String closedReason() {
    if (problem != null) {
      return problem;
    }
    return switch (step) {
      case PREFIX -> received == 0 ? "closed the connection without sending anything"
          : "closed the connection after " + received + " of the " + Handshake.PREFIX_BYTES
              + " bytes that start a HELLO";
      case HELLO -> "closed the connection in the middle of its HELLO (" + received + " bytes)";
      case MAC -> "closed the connection on this rank's HELLO without sending its MAC (a rank with "
          + "another run secret does this)";
      default -> "closed the connection";
    };
  }

  /** Queues {@code parts} after whatever has not been written yet. */
  private void send(byte[]... parts) {
    int length = out.remaining();
    for (byte[] part : parts) {
      length += part.length;
    }
    ByteBuffer next = ByteBuffer.allocate(length).put(out);
    for (byte[] part : parts) {
      next.put(part);
    }
    out = next.flip();
  }

  private void flush() throws IOException {
    while (out.hasRemaining() && ch.write(out) > 0) {
      // the socket buffer takes the rest later; interestOps() asks for OP_WRITE meanwhile
    }
  }

  private Outcome reject(String reason) {
    rejection = reason;
    step = Step.DONE;
    return Outcome.REJECTED;
  }
}
