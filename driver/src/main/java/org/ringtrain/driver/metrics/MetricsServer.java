// The driver's end of the metrics channel. Listens on the driver's own
// address (never all interfaces), accepts rank 0 of each stage attempt, makes
// it prove knowledge of the run secret (HMAC over a fresh nonce), then reads
// length-prefixed JSON lines and hands them to the sinks. A peer that fails the
// challenge or sends an oversized frame is dropped and logged, never trusted.
package org.ringtrain.driver.metrics;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.ringtrain.sync.RingSecret;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Receives metrics from rank 0 during training; close it when the stage ends. */
public final class MetricsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
  /** Largest accepted JSON line, bytes. */
  static final int MAX_LINE_BYTES = 64 * 1024;
  static final int NONCE_BYTES = 32;
  static final byte[] ROLE = "ringtrain/metrics".getBytes(StandardCharsets.US_ASCII);
  private static final int HANDSHAKE_TIMEOUT_MS = 10_000;

  private final ServerSocket server;
  private final RingSecret secret;
  private final List<MetricsSink> sinks = new CopyOnWriteArrayList<>();
  private final Thread acceptor;
  private volatile boolean closed;

  /** Starts listening on {@code host} (the driver's bind address), any free port. */
  public MetricsServer(String host, RingSecret secret) throws IOException {
    this.secret = secret;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getByName(host), 0), 4);
    this.acceptor = new Thread(this::acceptLoop, "ringtrain-metrics-server");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The port rank 0 connects to. */
  public int port() {
    return server.getLocalPort();
  }

  /** Adds a sink; events are delivered to every sink in the order sinks were added. */
  public MetricsServer addSink(MetricsSink sink) {
    sinks.add(sink);
    return this;
  }

  /** Delivers an event that originates on the driver itself (e.g. a stage failure). */
  public void publish(MetricsEvent event) {
    synchronized (sinks) {
      for (MetricsSink sink : sinks) {
        try {
          sink.accept(event);
        } catch (RuntimeException e) {
          LOG.warn("metrics sink {} failed on {}: {}", sink, event.event(), e.toString());
        }
      }
    }
  }

  private void acceptLoop() {
    while (!closed) {
      try (Socket socket = server.accept()) {
        serve(socket);
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("metrics connection ended: {}", e.toString());
        }
      }
    }
  }

  private void serve(Socket socket) throws IOException {
    socket.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
    byte[] nonce = new byte[NONCE_BYTES];
    new SecureRandom().nextBytes(nonce);
    socket.getOutputStream().write(nonce);
    socket.getOutputStream().flush();
    DataInputStream in = new DataInputStream(socket.getInputStream());
    byte[] proof = new byte[32];
    in.readFully(proof);
    if (!MessageDigest.isEqual(proof, secret.mac(ROLE, nonce))) {
      LOG.warn("refused a metrics connection from {}: it did not prove knowledge of the run secret",
          socket.getRemoteSocketAddress());
      return;
    }
    socket.getOutputStream().write(1);
    socket.getOutputStream().flush();
    socket.setSoTimeout(0); // rank 0 may legitimately be quiet for a long step
    LOG.debug("metrics channel open from {}", socket.getRemoteSocketAddress());
    while (!closed) {
      int length;
      try {
        length = in.readInt();
      } catch (EOFException | SocketException e) {
        return; // rank 0 finished or its task ended
      }
      if (length <= 0 || length > MAX_LINE_BYTES) {
        LOG.warn("dropped the metrics connection from {}: frame of {} bytes (limit {})",
            socket.getRemoteSocketAddress(), length, MAX_LINE_BYTES);
        return;
      }
      byte[] line = new byte[length];
      in.readFully(line);
      try {
        publish(MetricsEvent.fromJson(new String(line, StandardCharsets.UTF_8)));
      } catch (IllegalArgumentException e) {
        LOG.warn("ignored a malformed metrics line: {}", e.getMessage());
      }
    }
  }

  /** Stops listening and ends the open connection, if any. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // already closed
    }
    try {
      acceptor.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
