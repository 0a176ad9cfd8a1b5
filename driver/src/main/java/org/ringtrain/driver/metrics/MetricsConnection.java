// One connection to the driver's metrics server, served on its own thread: the
// challenge under one deadline for the whole hello (so a peer dripping a byte at
// a time cannot stretch it), then frames under an idle timeout, each handed to
// the server, which delivers it only while this connection is the current one.
// It decides nothing about other connections; admission, superseding and
// delivery belong to MetricsServer.
package org.ringtrain.driver.metrics;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The server's handler of one accepted socket; internal. */
final class MetricsConnection implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsConnection.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final MetricsServer server;
  private final Socket socket;
  private final SocketAddress peer;
  private final long authDeadlineNanos;
  private volatile boolean endedByServer;
  private int attempt = -1; // set once authenticated; used only by this connection's thread

  MetricsConnection(MetricsServer server, Socket socket) {
    this.server = server;
    this.socket = socket;
    this.peer = socket.getRemoteSocketAddress();
    this.authDeadlineNanos = System.nanoTime() + server.authTimeout().toNanos();
  }

  SocketAddress peer() {
    return peer;
  }

  /** Closes the socket from the server's side (deadline, eviction, supersede, shutdown); the thread then ends. */
  void end() {
    endedByServer = true;
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void run() {
    try {
      if (authenticate()) {
        serveFrames();
      }
    } catch (IOException e) {
      if (endedByServer) {
        LOG.debug("metrics connection from {} ended by the server: {}", peer, e.toString());
      } else if (attempt < 0) {
        server.refuseStranger(this, e.toString()); // rate-limited: strangers can fail in bulk
      } else {
        LOG.warn("metrics connection from {} (stage attempt {}) failed: {}", peer, attempt, e.toString());
      }
    } finally {
      end();
      server.ended(this);
    }
  }

  /** The challenge; true when the server admitted this connection as the current one. */
  private boolean authenticate() throws IOException {
    byte[] nonce = new byte[MetricsProtocol.NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    OutputStream out = socket.getOutputStream();
    out.write(nonce); // 32 bytes fit any socket buffer: a peer that never reads cannot block this
    out.flush();
    byte[] hello = new byte[MetricsProtocol.HELLO_BYTES];
    int got = readBeforeDeadline(socket.getInputStream(), hello);
    if (endedByServer) {
      return false; // evicted or shut down while it waited; already reported
    }
    if (got < hello.length) {
      server.refuseStranger(this, "it sent " + got + " of the " + hello.length + " hello bytes before it closed or "
          + "the " + server.authTimeout().toMillis() + " ms authentication deadline passed");
      return false;
    }
    ByteBuffer fields = ByteBuffer.wrap(hello);
    int version = fields.getInt();
    int claimedAttempt = fields.getInt();
    byte[] proof = Arrays.copyOfRange(hello, 8, hello.length);
    if (!MessageDigest.isEqual(proof, MetricsProtocol.proof(server.secret(), nonce, version, claimedAttempt))) {
      server.refuseStranger(this, "it did not prove knowledge of the run secret");
      return false;
    }
    if (version != MetricsProtocol.VERSION || claimedAttempt < 0) {
      LOG.warn("refused the metrics channel from {}: expected protocol version {} and a stage attempt >= 0, found "
          + "version {} and attempt {}; run the same ringtrain jar on the driver and the executors",
          peer, MetricsProtocol.VERSION, version, claimedAttempt);
      out.write(MetricsProtocol.UNKNOWN_VERSION);
      out.flush();
      return false;
    }
    attempt = claimedAttempt; // authenticated: from here on its failures are logged as rank 0's
    int status = server.admit(this, claimedAttempt);
    out.write(status);
    out.flush();
    return status == MetricsProtocol.ACCEPTED;
  }

  /**
   * Reads {@code buf} fully or until the authentication deadline or the peer's end of stream;
   * returns the bytes read. The timeout is re-armed with the time left before every
   * read, so the deadline holds for the whole hello however the peer spaces its bytes.
   */
  private int readBeforeDeadline(InputStream in, byte[] buf) throws IOException {
    int off = 0;
    while (off < buf.length) {
      long leftMs = TimeUnit.NANOSECONDS.toMillis(authDeadlineNanos - System.nanoTime());
      if (leftMs <= 0) {
        return off;
      }
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, leftMs));
      int n;
      try {
        n = in.read(buf, off, buf.length - off);
      } catch (SocketTimeoutException e) {
        return off;
      } catch (IOException e) {
        if (endedByServer) {
          return off;
        }
        throw e;
      }
      if (n < 0) {
        return off;
      }
      off += n;
    }
    return off;
  }

  /** Frames from an authenticated rank 0 until it closes, falls idle, misbehaves or is superseded. */
  private void serveFrames() throws IOException {
    socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, server.idleTimeout().toMillis()));
    DataInputStream in = new DataInputStream(socket.getInputStream());
    LOG.debug("metrics channel open from {} (stage attempt {})", peer, attempt);
    while (true) {
      int length;
      try {
        length = in.readInt();
      } catch (EOFException e) {
        LOG.debug("rank 0 of stage attempt {} closed the metrics channel", attempt);
        return;
      } catch (SocketTimeoutException e) {
        LOG.warn("no metrics from rank 0 of stage attempt {} ({}) for {} s; closed its channel. A retry's rank 0 "
            + "reconnects; if steps are this slow, live metrics stop until then", attempt, peer,
            server.idleTimeout().toSeconds());
        return;
      }
      if (length <= 0 || length > MetricsProtocol.MAX_LINE_BYTES) {
        LOG.warn("dropped the metrics connection from {}: expected a frame of 1 to {} bytes, found {}",
            peer, MetricsProtocol.MAX_LINE_BYTES, length);
        return;
      }
      byte[] line = new byte[length];
      in.readFully(line);
      MetricsEvent event;
      try {
        event = MetricsEvent.fromJson(new String(line, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        LOG.warn("ignored a malformed metrics line: {}", e.getMessage());
        continue;
      }
      if (!server.deliver(this, event)) {
        return; // superseded by a newer rank 0, or the server closed
      }
    }
  }
}
