// The versioned, mutually authenticated handshake between ring neighbours.
// Runs once per connection, before any tensor byte. It proves that both ends
// hold the run's secret (HMAC-SHA256 over both sides' fresh nonces) without
// sending it, and that they agree on everything the frames depend on.
//
//   connector (rank r)                        acceptor (rank r+1)
//   HELLO(magic, version, runId, rank, N,  -->
//         codec, segmentBytes, nonceC)
//                                          <-- HELLO(..., nonceA) + MAC_A
//   MAC_C                                  -->
//                                          <-- ACCEPTED (1 byte)
//   MAC_A = HMAC(secret, "ringtrain/acceptor" | helloC | helloA)
//   MAC_C = HMAC(secret, "ringtrain/connector" | helloC | helloA)
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;

/** Handshake of one connection; see the file comment for the message flow. */
final class Handshake {
  static final int MAGIC = 0x52475452; // "RGTR"
  static final short PROTOCOL_VERSION = 1;
  static final int NONCE_BYTES = 32;
  static final int MAC_BYTES = 32;
  /** magic, version, runId length. */
  static final int PREFIX_BYTES = 4 + 2 + 2;
  /** rank, worldSize, codec, segmentBytes, nonce (after the run id). */
  static final int SUFFIX_BYTES = 4 + 4 + 1 + 4 + NONCE_BYTES;
  private static final byte ACCEPTED = 1;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Thrown by the acceptor for a connection that does not speak this protocol at all; it is skipped. */
  static final class NotAPeerException extends Exception {
    private static final long serialVersionUID = 1L;

    NotAPeerException(String message) {
      super(message);
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

  /** Runs the connector side against {@code peer}, which must turn out to be the expected rank. */
  void asConnector(SocketChannel ch, Peer peer) throws RingException {
    try {
      connect(ch, peer);
    } catch (RingException e) {
      throw refusedIfDropped(e, peer);
    }
  }

  private void connect(SocketChannel ch, Peer peer) throws RingException {
    long deadline = System.nanoTime() + config.handshakeTimeout().toNanos();
    byte[] helloC = hello();
    ChannelIo.writeFully(ch, ByteBuffer.wrap(helloC), deadline, peer, "handshake HELLO");
    byte[] helloA;
    try {
      helloA = readHello(ch, peer, deadline);
    } catch (NotAPeerException e) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE, e.getMessage());
    }
    checkHello(helloA, peer.rank(), peer);
    ByteBuffer macA = ByteBuffer.allocate(MAC_BYTES);
    ChannelIo.readFully(ch, macA, deadline, peer, "handshake MAC");
    if (!MessageDigest.isEqual(macA.array(), mac("ringtrain/acceptor", helloC, helloA))) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE,
          "peer did not prove knowledge of the run secret; every rank must get the secret made by "
              + "this run's driver");
    }
    ChannelIo.writeFully(ch, ByteBuffer.wrap(mac("ringtrain/connector", helloC, helloA)), deadline, peer,
        "handshake MAC");
    ByteBuffer verdict = ByteBuffer.allocate(1);
    ChannelIo.readFully(ch, verdict, deadline, peer, "handshake verdict");
    if (verdict.get(0) != ACCEPTED) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE, "peer refused the handshake");
    }
  }

  /**
   * Runs the acceptor side; the connecting peer must be {@code expected}.
   *
   * @throws NotAPeerException when the connection does not speak the ringtrain protocol (skip it)
   */
  void asAcceptor(SocketChannel ch, Peer expected) throws RingException, NotAPeerException {
    try {
      accept(ch, expected);
    } catch (RingException e) {
      throw refusedIfDropped(e, expected);
    }
  }

  private void accept(SocketChannel ch, Peer expected) throws RingException, NotAPeerException {
    long deadline = System.nanoTime() + config.handshakeTimeout().toNanos();
    byte[] helloC = readHello(ch, expected, deadline);
    checkHello(helloC, expected.rank(), expected);
    byte[] helloA = hello();
    ByteBuffer reply = ByteBuffer.allocate(helloA.length + MAC_BYTES);
    reply.put(helloA).put(mac("ringtrain/acceptor", helloC, helloA)).flip();
    ChannelIo.writeFully(ch, reply, deadline, expected, "handshake HELLO");
    ByteBuffer macC = ByteBuffer.allocate(MAC_BYTES);
    ChannelIo.readFully(ch, macC, deadline, expected, "handshake MAC");
    if (!MessageDigest.isEqual(macC.array(), mac("ringtrain/connector", helloC, helloA))) {
      throw new RingException(expected, RingException.Operation.HANDSHAKE,
          "connecting peer did not prove knowledge of the run secret; every rank must get the secret "
              + "made by this run's driver");
    }
    ChannelIo.writeFully(ch, ByteBuffer.wrap(new byte[] {ACCEPTED}), deadline, expected, "handshake verdict");
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
            + "because the two ranks hold different run secrets, run ids or ringtrain versions", e);
      }
      default -> {
        return e;
      }
    }
  }

  /** This rank's HELLO message. */
  byte[] hello() {
    byte[] runId = config.runId().getBytes(StandardCharsets.UTF_8);
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    ByteBuffer buf = ByteBuffer.allocate(PREFIX_BYTES + runId.length + SUFFIX_BYTES).order(ByteOrder.BIG_ENDIAN);
    buf.putInt(MAGIC).putShort(version).putShort((short) runId.length).put(runId);
    buf.putInt(rank).putInt(worldSize).put((byte) config.codec().ordinal()).putInt(config.segmentBytes());
    buf.put(nonce);
    return buf.array();
  }

  /** Reads a HELLO, checking magic, version and the run id length before reading the variable part. */
  private byte[] readHello(SocketChannel ch, Peer peer, long deadline) throws RingException, NotAPeerException {
    ByteBuffer prefix = ByteBuffer.allocate(PREFIX_BYTES);
    try {
      ChannelIo.readFully(ch, prefix, deadline, peer, "handshake HELLO");
    } catch (RingException e) {
      if (e.operation() == RingException.Operation.CLOSED && prefix.position() == 0) {
        throw new NotAPeerException("connection closed before sending a HELLO");
      }
      throw e;
    }
    int magic = prefix.getInt(0);
    if (magic != MAGIC) {
      throw new NotAPeerException("not a ringtrain peer (handshake magic 0x" + Integer.toHexString(magic) + ")");
    }
    short peerVersion = prefix.getShort(4);
    if (peerVersion != version) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE, "peer speaks ring protocol version "
          + peerVersion + " but this rank speaks " + version + "; run the same ringtrain build on every executor");
    }
    int idLen = prefix.getShort(6) & 0xFFFF;
    if (idLen == 0 || idLen > RingConfig.MAX_RUN_ID_BYTES) {
      throw new RingException(peer, RingException.Operation.PROTOCOL, "HELLO declares a run id of " + idLen
          + " bytes; expected 1 to " + RingConfig.MAX_RUN_ID_BYTES);
    }
    ByteBuffer rest = ByteBuffer.allocate(idLen + SUFFIX_BYTES);
    ChannelIo.readFully(ch, rest, deadline, peer, "handshake HELLO");
    return ByteBuffer.allocate(PREFIX_BYTES + rest.capacity()).put(prefix.array()).put(rest.array()).array();
  }

  /** Checks the peer's HELLO fields against this rank's config. */
  private void checkHello(byte[] hello, int expectedRank, Peer peer) throws RingException {
    ByteBuffer buf = ByteBuffer.wrap(hello).order(ByteOrder.BIG_ENDIAN);
    int idLen = buf.getShort(6) & 0xFFFF;
    String runId = new String(hello, PREFIX_BYTES, idLen, StandardCharsets.UTF_8);
    buf.position(PREFIX_BYTES + idLen);
    int peerRank = buf.getInt();
    int peerWorld = buf.getInt();
    int codec = buf.get();
    int segmentBytes = buf.getInt();
    String problem = null;
    if (!runId.equals(config.runId())) {
      problem = "peer belongs to run '" + runId + "' but this rank to run '" + config.runId() + "'";
    } else if (peerWorld != worldSize) {
      problem = "peer has world size " + peerWorld + " but this rank " + worldSize;
    } else if (peerRank != expectedRank) {
      problem = "peer says it is rank " + peerRank + " but this rank expected rank " + expectedRank;
    } else if (codec != config.codec().ordinal() || segmentBytes != config.segmentBytes()) {
      problem = "peer uses codec " + codecName(codec) + " with " + segmentBytes + "-byte segments but this rank "
          + config.codec() + " with " + config.segmentBytes() + "; give every rank the same RingConfig";
    }
    if (problem != null) {
      throw new RingException(peer, RingException.Operation.HANDSHAKE, problem);
    }
  }

  private static String codecName(int ordinal) {
    WireCodec[] all = WireCodec.values();
    return ordinal >= 0 && ordinal < all.length ? all[ordinal].name() : "#" + ordinal;
  }

  private byte[] mac(String role, byte[] helloC, byte[] helloA) {
    return config.secret().mac(role.getBytes(StandardCharsets.US_ASCII), helloC, helloA);
  }
}
