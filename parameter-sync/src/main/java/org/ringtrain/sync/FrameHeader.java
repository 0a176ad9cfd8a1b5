// The 20-byte header in front of every frame a collective sends. Receivers know
// exactly which frame comes next and how long it is, so every field is checked
// against that expectation before a single payload byte is read: a peer that is
// out of step, or malicious, cannot make this rank read or allocate more.
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Frame header layout (big-endian): {@code int magic 'RTFR' | int opSeq | short kind |
 * short reserved (0) | int frameIndex | int payloadBytes}.
 */
final class FrameHeader {
  static final int BYTES = 20;
  static final int MAGIC = 0x52544652; // "RTFR"

  /** Collective kinds, as carried in the header. */
  static final short KIND_ALL_REDUCE = 1;
  static final short KIND_BROADCAST = 2;
  static final short KIND_REDUCE_SCATTER = 3;
  static final short KIND_ALL_GATHER = 4;

  private FrameHeader() {
  }

  /** A reusable header buffer in the order the header uses. */
  static ByteBuffer allocate() {
    return ByteBuffer.allocateDirect(BYTES).order(ByteOrder.BIG_ENDIAN);
  }

  /** Fills {@code buf} (cleared, then flipped for writing). */
  static void write(ByteBuffer buf, int opSeq, short kind, int frameIndex, int payloadBytes) {
    buf.clear();
    buf.putInt(MAGIC).putInt(opSeq).putShort(kind).putShort((short) 0).putInt(frameIndex).putInt(payloadBytes);
    buf.flip();
  }

  /** Checks a fully read header against what this rank expects next; throws a PROTOCOL error naming the mismatch. */
  static void check(ByteBuffer buf, Peer from, int opSeq, short kind, int frameIndex, int payloadBytes)
      throws RingException {
    int magic = buf.getInt(0);
    int gotSeq = buf.getInt(4);
    short gotKind = buf.getShort(8);
    int gotFrame = buf.getInt(12);
    int gotBytes = buf.getInt(16);
    String where = "frame " + frameIndex + " of " + kindName(kind) + " #" + opSeq;
    if (magic != MAGIC) {
      fail(from, "bad frame magic 0x" + Integer.toHexString(magic) + " in " + where
          + "; the byte stream is out of step (the peer is not a ringtrain rank or is corrupt)");
    }
    if (gotSeq != opSeq || gotKind != kind) {
      fail(from, "peer is in " + kindName(gotKind) + " #" + gotSeq + " but this rank expects " + where
          + "; all ranks must call the same collectives in the same order");
    }
    if (gotFrame != frameIndex) {
      fail(from, "peer sent frame " + gotFrame + " but this rank expects " + where);
    }
    if (gotBytes != payloadBytes) {
      fail(from, where + " carries " + gotBytes + " payload bytes, expected " + payloadBytes
          + "; all ranks must reduce buffers of the same length with the same segment size and codec");
    }
  }

  static String kindName(short kind) {
    return switch (kind) {
      case KIND_ALL_REDUCE -> "allreduce";
      case KIND_BROADCAST -> "broadcast";
      case KIND_REDUCE_SCATTER -> "reducescatter";
      case KIND_ALL_GATHER -> "allgather";
      default -> "unknown-collective(" + kind + ")";
    };
  }

  private static void fail(Peer from, String message) throws RingException {
    throw new RingException(from, RingException.Operation.PROTOCOL, message);
  }
}
