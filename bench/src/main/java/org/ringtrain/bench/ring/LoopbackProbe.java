// The ceilings the ring is measured against: one stream between a SocketChannel
// sender and receiver in this JVM, large writes from a direct buffer, socket
// options as the ring sets them, over loopback TCP (issue 3's ceiling) or over
// a Unix domain socket (the same-host transport's own ceiling). Not a network
// tool: it measures only this machine's kernel paths.
package org.ringtrain.bench.ring;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.ringtrain.sync.RingConfig;

/** Single-stream throughput over loopback TCP or a Unix domain socket. */
final class LoopbackProbe {
  /** Bytes per write and per read: 4 MiB, the size the notes found best for one stream. */
  static final int IO_BYTES = 4 << 20;
  /** Kernel socket buffer request, the ring's default. */
  private static final int SOCKET_BUFFER_BYTES = RingConfig.DEFAULT_SOCKET_BUFFER_BYTES;

  /** Which kernel path one stream takes. */
  enum Kind {
    TCP("loopback TCP"),
    UNIX("Unix socket");

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  private LoopbackProbe() {
  }

  /**
   * Streams {@code mib} MiB {@code reps} times over {@code kind} and returns each rep's throughput
   * in GB/s, timed from the sender's first write to the receiver's last read.
   */
  static double[] gbPerSecond(Kind kind, int mib, int reps) throws Exception {
    Path dir = null;
    try {
      ServerSocketChannel server;
      if (kind == Kind.TCP) {
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
      } else {
        dir = Files.createTempDirectory("ringbench-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(dir.resolve("probe.sock")));
      }
      try (server) {
        server.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
        try (SocketChannel sender = kind == Kind.TCP ? SocketChannel.open()
            : SocketChannel.open(StandardProtocolFamily.UNIX)) {
          configure(sender, kind);
          sender.connect(server.getLocalAddress());
          try (SocketChannel receiver = server.accept()) {
            configure(receiver, kind);
            return stream(sender, receiver, (long) mib << 20, reps);
          }
        }
      }
    } finally {
      if (dir != null) {
        Files.deleteIfExists(dir.resolve("probe.sock"));
        Files.deleteIfExists(dir);
      }
    }
  }

  /** The options RingConnector sets on a link of this kind. */
  private static void configure(SocketChannel ch, Kind kind) throws IOException {
    if (kind == Kind.TCP) {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }
    ch.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
    ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
  }

  private static double[] stream(SocketChannel sender, SocketChannel receiver, long total, int reps)
      throws Exception {
    long[] start = new long[reps];
    long[] end = new long[reps];
    CyclicBarrier go = new CyclicBarrier(2);
    ExecutorService receiverThread = Executors.newSingleThreadExecutor();
    try {
      Future<?> received = receiverThread.submit(() -> {
        receive(receiver, total, reps, go, end);
        return null;
      });
      ByteBuffer out = ByteBuffer.allocateDirect(IO_BYTES);
      for (int i = 0; i < out.capacity(); i += 8) {
        out.putLong(i, i * 0x9E3779B97F4A7C15L); // not zeros, in case anything compresses
      }
      for (int rep = 0; rep < reps; rep++) {
        go.await(30, TimeUnit.SECONDS);
        start[rep] = System.nanoTime();
        for (long sent = 0; sent < total; ) {
          out.clear().limit((int) Math.min(IO_BYTES, total - sent));
          while (out.hasRemaining()) {
            sent += sender.write(out);
          }
        }
      }
      received.get(120, TimeUnit.SECONDS);
    } finally {
      receiverThread.shutdownNow();
    }
    double[] rates = new double[reps];
    for (int rep = 0; rep < reps; rep++) {
      rates[rep] = Timing.gbPerSecond(total, (end[rep] - start[rep]) / 1e6);
    }
    return rates;
  }

  private static void receive(SocketChannel receiver, long total, int reps, CyclicBarrier go, long[] end)
      throws Exception {
    ByteBuffer in = ByteBuffer.allocateDirect(IO_BYTES);
    for (int rep = 0; rep < reps; rep++) {
      go.await(30, TimeUnit.SECONDS);
      for (long got = 0; got < total; ) {
        in.clear().limit((int) Math.min(IO_BYTES, total - got));
        int n = receiver.read(in);
        if (n < 0) {
          throw new IOException("loopback sender closed after " + got + " of " + total + " bytes");
        }
        got += n;
      }
      end[rep] = System.nanoTime();
    }
  }
}
