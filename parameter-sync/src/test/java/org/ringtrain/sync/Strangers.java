// Test fixture: the plumbing for strangers, i.e. connections to a rank's
// listeners (TCP or its Unix socket) from someone who is not its neighbour, over
// real sockets. It opens their connections, runs the rest of their scripts on
// its own threads (named "stranger-", not "ringtrain-ring"), and closes every
// connection and thread at the end. What each stranger does is up to the test.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

final class Strangers implements AutoCloseable {
  private final List<SocketChannel> open = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger threads = new AtomicInteger();
  private final ExecutorService scripts = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "stranger-" + threads.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  /** Where strangers knock on {@code rank}: its Unix socket and TCP port under AUTO, its TCP port under TCP. */
  static List<SocketAddress> listenersOf(RingAddress rank) {
    List<SocketAddress> all = new ArrayList<>();
    if (rank.unixSocket() != null) {
      all.add(UnixDomainSocketAddress.of(rank.unixSocket()));
    }
    all.add(rank.tcp());
    return all;
  }

  /** A blocking connection to {@code to}; closed by {@link #close()} unless the script closes it first. */
  SocketChannel connect(SocketAddress to) throws IOException {
    SocketChannel ch = to instanceof InetSocketAddress ? SocketChannel.open() : SocketChannel.open(StandardProtocolFamily.UNIX);
    open.add(ch);
    ch.connect(to);
    return ch;
  }

  /** Runs the rest of a stranger's script on its own thread. */
  <T> CompletableFuture<T> later(Callable<T> script) {
    CompletableFuture<T> done = new CompletableFuture<>();
    scripts.execute(() -> {
      try {
        done.complete(script.call());
      } catch (Throwable e) {
        done.completeExceptionally(e);
      }
    });
    return done;
  }

  static void write(SocketChannel ch, byte[] bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  /** Reads exactly {@code n} bytes, or fewer when the rank closes the connection first. */
  static byte[] read(SocketChannel ch, int n) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(n);
    while (buf.hasRemaining() && ch.read(buf) >= 0) {
      // blocking reads until full or closed
    }
    return Arrays.copyOf(buf.array(), buf.position());
  }

  /** What the rank did after the stranger's last message: "accepted", "closed" or "reset". */
  static String verdict(SocketChannel ch) {
    try {
      byte[] next = read(ch, 1);
      return next.length == 0 ? "closed" : next[0] == Handshake.ACCEPTED ? "accepted" : "sent " + next[0];
    } catch (IOException e) {
      return "reset";
    }
  }

  /**
   * Closes {@code ch} abruptly: over TCP with a reset (SO_LINGER 0), over a Unix socket, which has
   * no resets, by closing it.
   */
  static void reset(SocketChannel ch) throws IOException {
    if (ch.getRemoteAddress() instanceof InetSocketAddress) {
      ch.setOption(StandardSocketOptions.SO_LINGER, 0);
    }
    ch.close();
  }

  @Override
  public void close() {
    scripts.shutdownNow();
    synchronized (open) {
      for (SocketChannel ch : open) {
        RingLinks.closeQuietly(ch);
      }
    }
  }
}
