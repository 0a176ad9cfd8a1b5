// Deadline-bound reads and writes on non-blocking socket channels, for the
// connection set-up (handshake). The collectives do not use this: they drive
// both neighbours at once from one selector in RingPipeline.
package org.ringtrain.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/** Blocking-style I/O with a deadline over a non-blocking {@link SocketChannel}. */
final class ChannelIo {

  private ChannelIo() {
  }

  /** Reads until {@code buf} is full, or fails naming {@code peer} and {@code what} was being read. */
  static void readFully(SocketChannel ch, ByteBuffer buf, long deadlineNanos, Peer peer, String what)
      throws RingException {
    int wanted = buf.remaining();
    try (Selector selector = Selector.open()) {
      SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
      while (buf.hasRemaining()) {
        int n = ch.read(buf);
        if (n < 0) {
          throw new RingException(peer, RingException.Operation.CLOSED, "connection closed while reading "
              + what + " (got " + (wanted - buf.remaining()) + " of " + wanted + " bytes)");
        }
        if (n == 0) {
          awaitReady(selector, deadlineNanos, peer, "reading " + what);
        }
      }
      key.cancel();
    } catch (RingException e) {
      throw e;
    } catch (IOException e) {
      throw new RingException(peer, RingException.Operation.READ, "reading " + what + ": " + e, e);
    }
  }

  /** Writes all of {@code buf}, or fails naming {@code peer}. */
  static void writeFully(SocketChannel ch, ByteBuffer buf, long deadlineNanos, Peer peer, String what)
      throws RingException {
    try (Selector selector = Selector.open()) {
      SelectionKey key = ch.register(selector, SelectionKey.OP_WRITE);
      while (buf.hasRemaining()) {
        if (ch.write(buf) == 0) {
          awaitReady(selector, deadlineNanos, peer, "writing " + what);
        }
      }
      key.cancel();
    } catch (RingException e) {
      throw e;
    } catch (IOException e) {
      throw new RingException(peer, RingException.Operation.WRITE, "writing " + what + ": " + e, e);
    }
  }

  private static void awaitReady(Selector selector, long deadlineNanos, Peer peer, String doing)
      throws IOException {
    long leftMs = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (leftMs <= 0 || selector.select(leftMs) == 0 && System.nanoTime() >= deadlineNanos) {
      throw new RingException(peer, RingException.Operation.TIMEOUT, "timed out " + doing);
    }
    selector.selectedKeys().clear();
  }
}
