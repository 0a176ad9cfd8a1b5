// Test fixture: a loopback TCP relay between two real ranks that passes one
// connection through to a target in both directions, showing every chunk to a
// subclass on the way (RecordingRelay keeps the bytes, TamperingRelay flips one).
// Its threads are named "relay-", not "ringtrain-ring". Not a general-purpose proxy.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

abstract class LoopbackRelay implements AutoCloseable {
  private final ServerSocketChannel server;
  private volatile SocketChannel client;
  private volatile SocketChannel upstream;

  LoopbackRelay() throws IOException {
    server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
  }

  InetSocketAddress address() throws IOException {
    return (InetSocketAddress) server.getLocalAddress();
  }

  /**
   * Sees (and may change in place) the chunk between position 0 and its limit before it is
   * forwarded; {@code offset} is the chunk's first byte in its direction's stream. Called from
   * the relay's threads, one per direction.
   */
  abstract void onChunk(boolean fromClient, ByteBuffer chunk, long offset);

  /** Starts relaying the next connection to {@code target}. */
  void start(InetSocketAddress target) {
    Thread t = new Thread(() -> {
      try {
        client = server.accept();
        upstream = SocketChannel.open(target);
        Thread back = new Thread(() -> pump(upstream, client, false), "relay-back");
        back.setDaemon(true);
        back.start();
        pump(client, upstream, true);
      } catch (IOException e) {
        // closed by the test or by either end
      }
    }, "relay-forth");
    t.setDaemon(true);
    t.start();
  }

  private void pump(SocketChannel from, SocketChannel to, boolean fromClient) {
    ByteBuffer buf = ByteBuffer.allocate(64 << 10);
    long offset = 0;
    try {
      while (from.read(buf) >= 0) {
        buf.flip();
        onChunk(fromClient, buf, offset);
        offset += buf.limit();
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
