// Test fixture: a loopback TCP relay between two real ranks that passes one
// connection through unchanged in both directions, except that it flips bits of
// ONE byte, at a given offset of the stream from the connecting rank, on the
// way: an attacker (or a broken middlebox) on the path. Its threads are named
// "relay-", not "ringtrain-ring". Not a general-purpose proxy.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

final class TamperingRelay implements AutoCloseable {
  private final ServerSocketChannel server;
  private final long flipAt;
  private final byte mask;
  private volatile SocketChannel client;
  private volatile SocketChannel upstream;
  private volatile boolean flipped;

  /** A relay that XORs {@code mask} into byte {@code flipAt} (0-based) of the connecting side's stream. */
  TamperingRelay(long flipAt, byte mask) throws IOException {
    this.flipAt = flipAt;
    this.mask = mask;
    server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
  }

  InetSocketAddress address() throws IOException {
    return (InetSocketAddress) server.getLocalAddress();
  }

  /** Whether the byte was flipped (the stream reached that offset). */
  boolean flipped() {
    return flipped;
  }

  /** Starts relaying the next connection to {@code target}. */
  void start(InetSocketAddress target) {
    Thread t = new Thread(() -> {
      try {
        client = server.accept();
        upstream = SocketChannel.open(target);
        Thread back = new Thread(() -> pump(upstream, client, -1), "relay-back");
        back.setDaemon(true);
        back.start();
        pump(client, upstream, flipAt);
      } catch (IOException e) {
        // closed by the test or by either end
      }
    }, "relay-forth");
    t.setDaemon(true);
    t.start();
  }

  private void pump(SocketChannel from, SocketChannel to, long flipOffset) {
    ByteBuffer buf = ByteBuffer.allocate(64 << 10);
    long offset = 0;
    try {
      while (from.read(buf) >= 0) {
        buf.flip();
        int n = buf.limit();
        if (flipOffset >= offset && flipOffset < offset + n) {
          int i = (int) (flipOffset - offset);
          buf.put(i, (byte) (buf.get(i) ^ mask));
          flipped = true;
        }
        offset += n;
        while (buf.hasRemaining()) {
          to.write(buf);
        }
        buf.clear();
      }
    } catch (IOException e) {
      // one end went away
    } finally {
      RingLinks.closeQuietly(from);
      RingLinks.closeQuietly(to);
    }
  }

  @Override
  public void close() {
    RingLinks.closeQuietly(server);
    RingLinks.closeQuietly(client);
    RingLinks.closeQuietly(upstream);
  }
}
