// The versioned, mutually authenticated handshake between ring neighbours.
// Runs once per connection, before any tensor byte. It proves that both ends
// hold the run's secret (HMAC-SHA256 over both sides' fresh nonces) without
// sending it, and that they agree on everything the frames depend on.
//
//   connector (rank r)                        acceptor (rank r+1)
//   HELLO(magic, version, runId, rank, N,  -->
//         codec, protection, segmentBytes,
//         nonceC)
//                                          <-- HELLO(..., nonceA) + MAC_A
//   MAC_C                                  -->
//                                          <-- ACCEPTED (1 byte)
//   MAC_A = HMAC(secret, "ringtrain/acceptor" | helloC | helloA)
//   MAC_C = HMAC(secret, "ringtrain/connector" | helloC | helloA)
//   after it, with protection INTEGRITY or ENCRYPTION, the frames from the
//   connector to the acceptor are sealed with a key derived from the secret and
//   both HELLOs (FrameGuard.linkKey)
//
// This file holds the message layout, the checks both sides make and the
// connector's side, which blocks (with a deadline) on one connection. The
// acceptor's side is AcceptorHandshake: it must not block, because a rank
// handshakes every incoming connection at once and a stranger must not hold up
// the real neighbour.
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;

/** Handshake messages and checks, and the connector's side; see the file comment for the flow. */
final class Handshake {
  static final int MAGIC = 0x52475452; // "RGTR"
  /** 2: the HELLO carries the frame protection (RingConfig.protection) after the codec. */
  static final short PROTOCOL_VERSION = 2;
  static final int NONCE_BYTES = 32;
  static final int MAC_BYTES = 32;
  /** magic, version, runId length. */
  static final int PREFIX_BYTES = 4 + 2 + 2;
  /** rank, worldSize, codec, protection, segmentBytes, nonce (after the run id). */
  static final int SUFFIX_BYTES = 4 + 4 + 1 + 1 + 4 + NONCE_BYTES;
  static final byte ACCEPTED = 1;
  static final String ACCEPTOR_ROLE = "ringtrain/acceptor";
  static final String CONNECTOR_ROLE = "ringtrain/connector";
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * Thrown by the connector when the acceptor closed or reset the connection before sending a
   * single byte of its HELLO. The acceptor answers every HELLO it can read, so it either turned
   * this connection away unread (too many handshakes pending) or has ended its set-up: the caller
   * may connect again, and a refused connection then tells the two apart.
   */
  static final class TurnedAwayException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient RingException failure;

    TurnedAwayException(RingException failure) {
      super(failure.getMessage(), failure);
      this.failure = failure;
    }

    /** The close or reset as this rank saw it. */
    RingException failure() {
      return failure;
    }
  }

  private final RingConfig config;
  private final int rank;
  private final int worldSize;
  private final short version;

  Handshake(RingConfig config, int rank, int worldSize) {
    this(config, rank, worldSize, PROTOCOL_VERSION);
  }

  /** With an explicit protocol version: tests use it to play a peer of another version. */
  Handshake(RingConfig config, int rank, int worldSize, short version) {
    this.config = config;
    this.rank = rank;
    this.worldSize = worldSize;
    this.version = version;
  }

  RingConfig config() {
    return config;
  }

  /**
   * Runs the connector side against {@code peer}, which must turn out to be the expected rank.
   *
   * @return the key that seals this rank's frames to {@code peer} ({@link FrameGuard#linkKey})
   * @throws TurnedAwayException when the peer closed the connection before answering at all
   */
  byte[] asConnector(SocketChannel ch, Peer peer) throws RingException, TurnedAwayException {
    try {
      return connect(ch, peer);
    } catch (RingException e) {
      throw refusedIfDropped(e, peer);
    }
  }

  private byte[] connect(SocketChannel ch, Peer peer) throws RingException, TurnedAwayException {
    long deadline = System.nanoTime() + config.handshakeTimeout().toNanos();
    byte[] helloC = hello();
    try {
      ChannelIo.writeFully(ch, ByteBuffer.wrap(helloC), deadline, peer, "handshake HELLO");
    } catch (RingException e) {
      if (e.operation() == RingException.Operation.WRITE) {
        // A write fails only once the peer has reset the connection, and it has read nothing of ours.
        throw new TurnedAwayException(e);
      }
      throw e;
    }
    byte[] helloA = readHello(ch, peer, deadline);
    String problem = helloProblem(helloA, peer.rank());
    if (problem != null) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE, problem);
    }
    ByteBuffer macA = ByteBuffer.allocate(MAC_BYTES);
    ChannelIo.readFully(ch, macA, deadline, peer, "handshake MAC");
    if (!MessageDigest.isEqual(macA.array(), mac(ACCEPTOR_ROLE, helloC, helloA))) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE,
          "peer did not prove knowledge of the run secret; every rank must get the secret made by "
              + "this run's driver");
    }
    ChannelIo.writeFully(ch, ByteBuffer.wrap(mac(CONNECTOR_ROLE, helloC, helloA)), deadline, peer,
        "handshake MAC");
    ByteBuffer verdict = ByteBuffer.allocate(1);
    ChannelIo.readFully(ch, verdict, deadline, peer, "handshake verdict");
    if (verdict.get(0) != ACCEPTED) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE, "peer refused the handshake");
    }
    return FrameGuard.linkKey(config, helloC, helloA);
  }

  /**
   * A peer that drops the connection during the handshake (a close, or a reset on read or write)
   * has refused this rank or given up its own set-up: say so with the likely cause, rather than
   * report a bare I/O error. Timeouts and protocol errors stay what they are.
   */
  private static RingException refusedIfDropped(RingException e, Peer peer) {
    switch (e.operation()) {
      case CLOSED, READ, WRITE -> {
        return new RingException(peer, RingException.Operation.HANDSHAKE, "peer dropped the connection during "
            + "the handshake (" + e.getMessage() + "): it refused this rank or failed its own set-up, most likely "
            + "because the two ranks hold different run secrets, run ids, ringProtection settings or ringtrain "
            + "versions", e);
      }
      default -> {
        return e;
      }
    }
  }

  /** This rank's HELLO message, with a fresh nonce. */
  byte[] hello() {
    byte[] runId = config.runId().getBytes(StandardCharsets.UTF_8);
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    ByteBuffer buf = ByteBuffer.allocate(PREFIX_BYTES + runId.length + SUFFIX_BYTES).order(ByteOrder.BIG_ENDIAN);
    buf.putInt(MAGIC).putShort(version).putShort((short) runId.length).put(runId);
    buf.putInt(rank).putInt(worldSize).put((byte) config.codec().ordinal()).put((byte) config.protection().ordinal())
        .putInt(config.segmentBytes());
    buf.put(nonce);
    return buf.array();
  }

  /** Reads the acceptor's HELLO, checking magic, version and the run id length before reading the rest. */
  private byte[] readHello(SocketChannel ch, Peer peer, long deadline) throws RingException, TurnedAwayException {
    ByteBuffer prefix = ByteBuffer.allocate(PREFIX_BYTES);
    try {
      ChannelIo.readFully(ch, prefix, deadline, peer, "handshake HELLO");
    } catch (RingException e) {
      boolean dropped = e.operation() == RingException.Operation.CLOSED
          || e.operation() == RingException.Operation.READ;
      if (dropped && prefix.position() == 0) {
        throw new TurnedAwayException(e);
      }
      throw e;
    }
    String problem = magicProblem(prefix) != null ? magicProblem(prefix) : versionProblem(prefix);
    if (problem != null) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE, problem);
    }
    problem = prefixProblem(prefix); // what is left to check: the run id length
    if (problem != null) {
      throw new RingException(peer, RingException.Operation.PROTOCOL, problem);
    }
    ByteBuffer rest = ByteBuffer.allocate(helloBytes(prefix) - PREFIX_BYTES);
    ChannelIo.readFully(ch, rest, deadline, peer, "handshake HELLO");
    return ByteBuffer.allocate(PREFIX_BYTES + rest.capacity()).put(prefix.array()).put(rest.array()).array();
  }

  /** What is wrong with a HELLO's first {@value #PREFIX_BYTES} bytes, or null; checked before reading on. */
  String prefixProblem(ByteBuffer prefix) {
    String magic = magicProblem(prefix);
    if (magic != null) {
      return magic;
    }
    String peerVersion = versionProblem(prefix);
    if (peerVersion != null) {
      return peerVersion;
    }
    int idLen = prefix.getShort(6) & 0xFFFF;
    if (idLen == 0 || idLen > RingConfig.MAX_RUN_ID_BYTES) {
      return "HELLO declares a run id of " + idLen + " bytes; expected 1 to " + RingConfig.MAX_RUN_ID_BYTES;
    }
    return null;
  }

  /** Null when the prefix starts with the magic, else why it is no ringtrain peer. */
  static String magicProblem(ByteBuffer prefix) {
    int magic = prefix.getInt(0);
    return magic == MAGIC ? null
        : "not a ringtrain peer (handshake magic 0x" + Integer.toHexString(magic) + ")";
  }

  /** Null when the prefix carries this rank's protocol version, else both versions. */
  String versionProblem(ByteBuffer prefix) {
    short peerVersion = prefix.getShort(4);
    return peerVersion == version ? null : "peer speaks ring protocol version " + peerVersion
        + " but this rank speaks " + version + "; run the same ringtrain build on every executor";
  }

  /** The whole HELLO's length, from a prefix that passed {@link #prefixProblem}. */
  static int helloBytes(ByteBuffer prefix) {
    return PREFIX_BYTES + (prefix.getShort(6) & 0xFFFF) + SUFFIX_BYTES;
  }

  /** What in the peer's HELLO disagrees with this rank's config, or null when it is {@code expectedRank}'s. */
  String helloProblem(byte[] hello, int expectedRank) {
    ByteBuffer buf = ByteBuffer.wrap(hello).order(ByteOrder.BIG_ENDIAN);
    int idLen = buf.getShort(6) & 0xFFFF;
    String runId = new String(hello, PREFIX_BYTES, idLen, StandardCharsets.UTF_8);
    buf.position(PREFIX_BYTES + idLen);
    int peerRank = buf.getInt();
    int peerWorld = buf.getInt();
    int codec = buf.get();
    int protection = buf.get();
    int segmentBytes = buf.getInt();
    if (!runId.equals(config.runId())) {
      return "peer belongs to run '" + runId + "' but this rank to run '" + config.runId() + "'";
    } else if (peerWorld != worldSize) {
      return "peer has world size " + peerWorld + " but this rank " + worldSize;
    } else if (peerRank != expectedRank) {
      return "peer says it is rank " + peerRank + " but this rank expected rank " + expectedRank;
    } else if (codec != config.codec().ordinal() || segmentBytes != config.segmentBytes()) {
      return "peer uses codec " + codecName(codec) + " with " + segmentBytes + "-byte segments but this rank "
          + config.codec() + " with " + config.segmentBytes() + "; give every rank the same RingConfig";
    } else if (protection != config.protection().ordinal()) {
      return "peer protects frames with " + protectionName(protection) + " but this rank with "
          + config.protection() + "; give every rank the same ringProtection";
    }
    return null;
  }

  private static String protectionName(int ordinal) {
    RingProtection[] all = RingProtection.values();
    return ordinal >= 0 && ordinal < all.length ? all[ordinal].name() : "#" + ordinal;
  }

  private static String codecName(int ordinal) {
    WireCodec[] all = WireCodec.values();
    return ordinal >= 0 && ordinal < all.length ? all[ordinal].name() : "#" + ordinal;
  }

  /** The MAC of {@code role} over both HELLOs. */
  byte[] mac(String role, byte[] helloC, byte[] helloA) {
    return config.secret().mac(role.getBytes(StandardCharsets.US_ASCII), helloC, helloA);
  }
}
