// Test fixture: a loopback TCP relay that passes one connection through to a
// target unchanged and records the bytes in both directions, to capture a real
// handshake between two real ranks (for the replay test). Its threads are named
// "relay-", not "ringtrain-ring". Not a general-purpose proxy.
package org.ringtrain.sync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

final class RecordingRelay implements AutoCloseable {
  private final ServerSocketChannel server;
  private final ByteArrayOutputStream fromClient = new ByteArrayOutputStream();
  private final ByteArrayOutputStream fromServer = new ByteArrayOutputStream();
  private volatile SocketChannel client;
  private volatile SocketChannel upstream;

  RecordingRelay() throws IOException {
    server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
  }

  InetSocketAddress address() throws IOException {
    return (InetSocketAddress) server.getLocalAddress();
  }

  /** Starts relaying the next connection to {@code target}. */
  void start(InetSocketAddress target) {
    Thread t = new Thread(() -> {
      try {
        client = server.accept();
        upstream = SocketChannel.open(target);
        Thread back = new Thread(() -> pump(upstream, client, fromServer), "relay-back");
        back.setDaemon(true);
        back.start();
        pump(client, upstream, fromClient);
      } catch (IOException e) {
        // closed by the test or by either end; what was recorded stays
      }
    }, "relay-forth");
    t.setDaemon(true);
    t.start();
  }

  /** Everything the connecting side sent so far. */
  byte[] fromClient() {
    synchronized (fromClient) {
      return fromClient.toByteArray();
    }
  }

  /** Everything the accepting side sent so far. */
  byte[] fromServer() {
    synchronized (fromServer) {
      return fromServer.toByteArray();
    }
  }

  private static void pump(SocketChannel from, SocketChannel to, ByteArrayOutputStream record) {
    ByteBuffer buf = ByteBuffer.allocate(64 << 10);
    try {
      while (from.read(buf) >= 0) {
        buf.flip();
        synchronized (record) {
          record.write(buf.array(), 0, buf.limit());
        }
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
