// A hand-driven peer of the metrics server over a real loopback socket, for
// MetricsServerTest: it can play rank 0 step by step (nonce, hello, status,
// frames), stop halfway like a killed task, or be a stranger that sends
// nothing or the wrong thing. Not a client for production use (MetricsClient).
package org.ringtrain.driver.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.ringtrain.sync.RingSecret;

/** One raw socket to a {@link MetricsServer}; close it to end the test's side. */
final class RawMetricsPeer implements AutoCloseable {
  static final int READ_TIMEOUT_MS = 10_000;

  final Socket socket;
  final DataInputStream in;
  final DataOutputStream out;

  private RawMetricsPeer(Socket socket) throws IOException {
    this.socket = socket;
    socket.setSoTimeout(READ_TIMEOUT_MS);
    this.in = new DataInputStream(socket.getInputStream());
    this.out = new DataOutputStream(socket.getOutputStream());
  }

  /** A connected socket that has sent nothing yet. */
  static RawMetricsPeer connect(String host, int port) throws IOException {
    return new RawMetricsPeer(new Socket(host, port));
  }

  /** A peer that completed the challenge as rank 0 of {@code attempt} and was accepted. */
  static RawMetricsPeer authenticated(String host, int port, RingSecret secret, int attempt) throws IOException {
    RawMetricsPeer peer = connect(host, port);
    peer.out.write(MetricsProtocol.hello(secret, peer.readNonce(), MetricsProtocol.VERSION, attempt));
    peer.out.flush();
    assertEquals(MetricsProtocol.ACCEPTED, peer.in.read(), "the server accepts a correct hello");
    return peer;
  }

  byte[] readNonce() throws IOException {
    byte[] nonce = new byte[MetricsProtocol.NONCE_BYTES];
    in.readFully(nonce);
    return nonce;
  }

  void writeFrame(String json) throws IOException {
    out.write(frame(json));
    out.flush();
  }

  static byte[] frame(String json) {
    byte[] line = json.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + line.length).putInt(line.length).put(line).array();
  }

  /**
   * Reads until the server closes this connection and returns the bytes read; fails the test if
   * it stays open for {@link #READ_TIMEOUT_MS}. A reset counts as closed.
   */
  int readUntilClosed() throws IOException {
    InputStream raw = socket.getInputStream();
    int total = 0;
    try {
      while (raw.read() >= 0) {
        total++;
      }
    } catch (SocketTimeoutException e) {
      fail("the server kept the connection open for " + READ_TIMEOUT_MS + " ms after " + total + " bytes");
    } catch (IOException e) {
      // A reset (the server closed with our bytes unread) is a close too.
    }
    return total;
  }

  /** True when the connection is still open and silent after {@code ms}; false on a byte, an end or a reset. */
  boolean stillOpenAfter(int ms) throws IOException {
    socket.setSoTimeout(ms);
    try {
      socket.getInputStream().read();
      return false;
    } catch (SocketTimeoutException e) {
      return true;
    } catch (IOException e) {
      return false;
    } finally {
      socket.setSoTimeout(READ_TIMEOUT_MS);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
