// Rank 0's end of the metrics channel. Training must never wait on the
// driver: events go into a bounded queue that a daemon thread drains; if the
// driver falls behind, the oldest events are dropped and counted. Not used by
// other ranks.
package org.ringtrain.driver.metrics;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.ringtrain.sync.RingSecret;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sends metrics events to the driver's {@link MetricsServer}. */
public final class MetricsClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsClient.class);
  private static final int QUEUE = 4096;
  private static final int CONNECT_TIMEOUT_MS = 10_000;

  private final Socket socket;
  private final DataOutputStream out;
  private final BlockingQueue<MetricsEvent> queue = new ArrayBlockingQueue<>(QUEUE);
  private final AtomicLong dropped = new AtomicLong();
  private final Thread sender;
  private static final MetricsEvent STOP = MetricsEvent.of("stop");

  /** Connects to the driver and proves knowledge of the run secret. */
  public MetricsClient(String host, int port, RingSecret secret) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
    socket.setSoTimeout(CONNECT_TIMEOUT_MS);
    socket.setTcpNoDelay(true);
    DataInputStream in = new DataInputStream(socket.getInputStream());
    byte[] nonce = new byte[MetricsServer.NONCE_BYTES];
    in.readFully(nonce);
    out = new DataOutputStream(socket.getOutputStream());
    out.write(secret.mac(MetricsServer.ROLE, nonce));
    out.flush();
    if (in.read() != 1) {
      socket.close();
      throw new IOException("the driver at " + host + ":" + port + " refused the metrics channel; "
          + "rank 0 and the driver must share the run secret");
    }
    sender = new Thread(this::drain, "ringtrain-metrics-client");
    sender.setDaemon(true);
    sender.start();
  }

  /** Queues an event; never blocks. */
  public void send(MetricsEvent event) {
    while (!queue.offer(event)) {
      queue.poll();
      dropped.incrementAndGet();
    }
  }

  private void drain() {
    try {
      while (true) {
        MetricsEvent e = queue.take();
        if (e == STOP) {
          return;
        }
        byte[] line = e.toJson().getBytes(StandardCharsets.UTF_8);
        out.writeInt(line.length);
        out.write(line);
        if (queue.isEmpty()) {
          out.flush();
        }
      }
    } catch (IOException e) {
      LOG.warn("metrics channel to the driver failed; training goes on without live metrics: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Flushes what is queued (waiting at most a few seconds) and closes the channel. */
  @Override
  public void close() {
    try {
      queue.offer(STOP, 1, TimeUnit.SECONDS);
      sender.join(5000);
      out.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException ignored) {
      // the driver is gone; nothing to flush to
    } finally {
      if (dropped.get() > 0) {
        LOG.warn("{} metrics events were dropped because the driver fell behind", dropped.get());
      }
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
