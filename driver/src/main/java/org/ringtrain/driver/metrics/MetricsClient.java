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

  /**
   * Connects to the driver and proves knowledge of the run secret, announcing the Spark stage
   * attempt this rank 0 belongs to: the driver then closes the channel of any earlier rank 0 of the
   * same or an older attempt (a retry supersedes a failed attempt) and refuses older attempts.
   *
   * @param stageAttempt the barrier stage's attempt number, {@code >= 0}
   */
  public MetricsClient(String host, int port, RingSecret secret, int stageAttempt) throws IOException {
    if (stageAttempt < 0) {
      throw new IllegalArgumentException("stage attempt must be >= 0, but found " + stageAttempt
          + "; pass BarrierTaskContext.stageAttemptNumber()");
    }
    socket = new Socket();
    try {
      socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
      socket.setSoTimeout(CONNECT_TIMEOUT_MS);
      socket.setTcpNoDelay(true);
      DataInputStream in = new DataInputStream(socket.getInputStream());
      byte[] nonce = new byte[MetricsProtocol.NONCE_BYTES];
      in.readFully(nonce);
      out = new DataOutputStream(socket.getOutputStream());
      out.write(MetricsProtocol.hello(secret, nonce, MetricsProtocol.VERSION, stageAttempt));
      out.flush();
      checkStatus(in.read(), host + ":" + port, stageAttempt);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
    sender = new Thread(this::drain, "ringtrain-metrics-client");
    sender.setDaemon(true);
    sender.start();
  }

  private static void checkStatus(int status, String driver, int stageAttempt) throws IOException {
    switch (status) {
      case MetricsProtocol.ACCEPTED -> {
        return;
      }
      case MetricsProtocol.UNKNOWN_VERSION -> throw new IOException("the driver at " + driver
          + " does not speak metrics protocol version " + MetricsProtocol.VERSION
          + "; run the same ringtrain jar on the driver and the executors");
      case MetricsProtocol.STALE_ATTEMPT -> throw new IOException("the driver at " + driver
          + " refused the metrics channel of stage attempt " + stageAttempt
          + ": a newer attempt of the stage already reports, so this task belongs to a superseded attempt");
      default -> throw new IOException("the driver at " + driver + " refused the metrics channel; "
          + "rank 0 and the driver must share the run secret");
    }
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
