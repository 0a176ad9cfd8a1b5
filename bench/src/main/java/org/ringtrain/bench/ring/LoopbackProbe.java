// The ceiling the ring is measured against: one TCP stream over loopback
// between a SocketChannel sender and receiver in this JVM, large writes from a
// direct buffer, socket options as the ring sets them. Not a network tool: it
// measures only this machine's loopback path.
package org.ringtrain.bench.ring;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Single-stream loopback TCP throughput. */
final class LoopbackProbe {
  /** Bytes per write and per read: 4 MiB, the size the notes found best for one stream. */
  static final int IO_BYTES = 4 << 20;
  /** Kernel socket buffer request, the ring's default. */
  private static final int SOCKET_BUFFER_BYTES = 4 << 20;

  private LoopbackProbe() {
  }

  /**
   * Streams {@code mib} MiB {@code reps} times and returns each rep's throughput in GB/s, timed
   * from the sender's first write to the receiver's last read.
   */
  static double[] gbPerSecond(int mib, int reps) throws Exception {
    long total = (long) mib << 20;
    long[] start = new long[reps];
    long[] end = new long[reps];
    CyclicBarrier go = new CyclicBarrier(2);
    ExecutorService receiverThread = Executors.newSingleThreadExecutor();
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      server.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
      try (SocketChannel sender = SocketChannel.open()) {
        sender.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
        sender.setOption(StandardSocketOptions.TCP_NODELAY, true);
        sender.connect(server.getLocalAddress());
        try (SocketChannel receiver = server.accept()) {
          receiver.setOption(StandardSocketOptions.TCP_NODELAY, true);
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
        }
      }
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
