// The engine under every collective: one thread moves two ordered frame
// streams at once, sending to the right neighbour while receiving from the
// left, over non-blocking channels and one selector. A collective only says
// which bytes frame j carries, where received bytes go, what to do once a frame
// has arrived, and how many frames must have arrived before frame j may be sent.
// Sending and receiving concurrently is what keeps the ring from deadlocking
// when every rank's socket buffers are full. With RingConfig.protection other
// than NONE the transport's FrameGuards seal each frame on its way out and check
// it (tag after the payload, or the ciphertext) before onReceived sees it;
// without, a frame is header and payload straight from the caller's buffer.
package org.ringtrain.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;

/** A pipelined exchange of frames with both neighbours; subclasses define the schedule. */
abstract class RingPipeline {
  protected final RingTransport t;
  private final short kind;
  private final int opSeq;

  RingPipeline(RingTransport transport, short kind) {
    this.t = transport;
    this.kind = kind;
    this.opSeq = transport.nextOpSeq();
  }

  /** Frames this rank sends to its right neighbour. */
  abstract int sendFrames();

  /** Frames this rank receives from its left neighbour. */
  abstract int recvFrames();

  /** How many received frames must be processed before send frame {@code j} may start. */
  abstract int recvsBeforeSend(int j);

  /** The payload of send frame {@code j}, between position and limit. */
  abstract ByteBuffer sendPayload(int j);

  /** The payload length in bytes that receive frame {@code j} must carry. */
  abstract int recvBytes(int j);

  /** Where receive frame {@code j}'s payload is read to; exactly {@code recvBytes(j)} remaining. */
  abstract ByteBuffer recvTarget(int j);

  /** Called when receive frame {@code j}'s payload has fully arrived. */
  abstract void onReceived(int j);

  /** Runs the rounds until every frame is sent and received, or fails naming the peer. */
  final void run() throws RingException {
    final int sends = sendFrames();
    final int recvs = recvFrames();
    final long timeoutNanos = t.config.ioTimeout().toNanos();
    final FrameGuard sealing = t.sendGuard;
    final FrameGuard opening = t.recvGuard;
    ByteBuffer[] out = t.outFrame;
    final ByteBuffer header = t.recvHeader;
    int sent = 0;
    int received = 0;
    boolean sending = false;
    ByteBuffer inbound = null; // null while the next header is being read
    ByteBuffer target = null; // where the payload of the frame being received goes
    int targetStart = 0;
    ByteBuffer trailer = null; // the tag after the payload, with INTEGRITY
    header.clear();
    long lastProgress = System.nanoTime();
    while (sent < sends || received < recvs) {
      boolean progress = false;

      // Send right: start the next frame as soon as its data is final, then push bytes.
      if (!sending && sent < sends && received >= recvsBeforeSend(sent)) {
        ByteBuffer payload = sendPayload(sent);
        FrameHeader.write(t.sendHeader, opSeq, kind, sent, payload.remaining());
        if (sealing == null) {
          out = t.outFrame;
          out[0] = t.sendHeader;
          out[1] = payload;
        } else {
          out = sealing.seal(t.sendHeader, payload, frameName(sent));
        }
        sending = true;
      }
      if (sending) {
        progress |= write(out, sent) > 0;
        if (allWritten(out)) {
          sending = false;
          sent++;
          progress = true;
        }
      }

      // Receive left: header first, checked against what must come next, then its payload.
      if (received < recvs) {
        if (inbound == null) {
          progress |= read(header, received) > 0;
          if (!header.hasRemaining()) {
            checkHeader(header, received);
            target = recvTarget(received);
            targetStart = target.position();
            inbound = opening == null ? target : opening.body(target, recvBytes(received));
            trailer = opening == null ? null : opening.trailer();
          }
        }
        if (inbound != null) {
          if (inbound.hasRemaining()) {
            progress |= read(inbound, received) > 0;
          } else if (trailer != null && trailer.hasRemaining()) {
            progress |= read(trailer, received) > 0;
          }
          if (!inbound.hasRemaining() && (trailer == null || !trailer.hasRemaining())) {
            if (opening != null) {
              opening.open(header, target, targetStart, frameName(received)); // before any byte is used
            }
            onReceived(received); // reduce / decode / finalise
            received++;
            inbound = null;
            header.clear();
            progress = true;
          }
        }
      }

      if (progress) {
        lastProgress = System.nanoTime();
      } else {
        // Wait for either neighbour; give up when nothing moved for ioTimeout.
        long idle = System.nanoTime() - lastProgress;
        if (idle >= timeoutNanos) {
          throw timeout(received < recvs, sent, received);
        }
        await(received < recvs, sending, (timeoutNanos - idle) / 1_000_000 + 1);
      }
    }
  }

  private static boolean allWritten(ByteBuffer[] frame) {
    for (ByteBuffer b : frame) {
      if (b.hasRemaining()) {
        return false;
      }
    }
    return true;
  }

  private String frameName(int j) {
    return "frame " + j + " of " + FrameHeader.kindName(kind) + " #" + opSeq;
  }

  /**
   * {@link FrameHeader#check}; on a protected link a header that fails it is more likely altered on
   * the path than sent by a rank out of step, and the error says so.
   */
  private void checkHeader(ByteBuffer header, int j) throws RingException {
    try {
      FrameHeader.check(header, t.links.leftPeer, opSeq, kind, j, recvBytes(j));
    } catch (RingException e) {
      if (t.recvGuard == null) {
        throw e;
      }
      throw new RingException(e, "ringProtection " + t.config.protection() + ": the header of " + frameName(j)
          + " is wrong, so it was most likely altered in transit on the link from " + t.links.leftPeer
          + " (its tag is checked after the payload): ");
    }
  }

  private long write(ByteBuffer[] frame, int j) throws RingException {
    try {
      return t.links.outbox.write(frame);
    } catch (IOException e) {
      throw new RingException(t.links.rightPeer, RingException.Operation.WRITE, "writing frame " + j + " of "
          + FrameHeader.kindName(kind) + " #" + opSeq + ": " + e, e);
    }
  }

  private int read(ByteBuffer into, int j) throws RingException {
    int n;
    try {
      n = t.links.inbox.read(into);
    } catch (IOException e) {
      throw new RingException(t.links.leftPeer, RingException.Operation.READ, "reading frame " + j + " of "
          + FrameHeader.kindName(kind) + " #" + opSeq + ": " + e, e);
    }
    if (n < 0) {
      throw new RingException(t.links.leftPeer, RingException.Operation.CLOSED, "connection closed while "
          + "waiting for frame " + j + " of " + FrameHeader.kindName(kind) + " #" + opSeq
          + " (" + into.position() + " bytes of its " + (into == t.recvHeader ? "header" : "payload")
          + " read); the peer failed or was stopped");
    }
    return n;
  }

  private void await(boolean wantRead, boolean wantWrite, long waitMs) throws RingException {
    try {
      t.inKey.interestOps(wantRead ? SelectionKey.OP_READ : 0);
      t.outKey.interestOps(wantWrite ? SelectionKey.OP_WRITE : 0);
      t.selector.select(waitMs);
      t.selector.selectedKeys().clear();
    } catch (IOException | java.nio.channels.CancelledKeyException
        | java.nio.channels.ClosedSelectorException e) {
      throw new RingException(wantRead ? t.links.leftPeer : t.links.rightPeer, RingException.Operation.CLOSED,
          "the ring was closed during " + FrameHeader.kindName(kind) + " #" + opSeq, e);
    }
  }

  private RingException timeout(boolean waitingToRead, int sent, int received) {
    long ms = t.config.ioTimeout().toMillis();
    String where = FrameHeader.kindName(kind) + " #" + opSeq;
    if (waitingToRead) {
      return new RingException(t.links.leftPeer, RingException.Operation.TIMEOUT, "no data for " + ms
          + " ms while waiting for frame " + received + " of " + where + "; that rank, or one before it in the"
          + " ring, is dead or stalled (raise ioTimeout if a rank legitimately works longer between collectives)");
    }
    return new RingException(t.links.rightPeer, RingException.Operation.TIMEOUT, "could not write frame " + sent
        + " of " + where + " for " + ms + " ms; the peer stopped reading");
  }
}
