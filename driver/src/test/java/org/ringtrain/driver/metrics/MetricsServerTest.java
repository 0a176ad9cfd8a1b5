// The metrics channel's authentication over a real loopback socket: rank 0 with the run secret
// gets its events to the sinks in order; a client with another secret, an impostor that answers
// the challenge wrongly and then sends frames anyway, and a stranger sending garbage are refused,
// and nothing they send reaches a sink. Not a test of the sinks (MetricsLog, TensorBoardWriter).
package org.ringtrain.driver.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.sync.RingSecret;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MetricsServerTest {
  private static final String HOST = "127.0.0.1";
  private static final int READ_TIMEOUT_MS = 10_000;

  private final RingSecret secret = RingSecret.generate();
  private final BlockingQueue<MetricsEvent> received = new LinkedBlockingQueue<>();
  private MetricsServer server;

  @BeforeEach
  void start() throws IOException {
    server = new MetricsServer(HOST, secret).addSink(received::add);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void aClientWithTheRunSecretDeliversEveryEventInOrder() throws Exception {
    try (MetricsClient client = new MetricsClient(HOST, server.port(), secret)) {
      for (int step = 0; step < 20; step++) {
        client.send(MetricsEvent.of("step").with("step", step).with("loss", 5.0 - step * 0.125));
      }
    }
    for (int step = 0; step < 20; step++) {
      MetricsEvent e = next();
      assertEquals("step", e.event());
      assertEquals(step, e.number("step"), "events arrive in the order rank 0 sent them");
      assertEquals(5.0 - step * 0.125, e.number("loss"));
    }
  }

  @Test
  void aClientWithAnotherSecretIsRefusedAndItsEventsNeverArrive() throws Exception {
    IOException e = assertThrows(IOException.class,
        () -> new MetricsClient(HOST, server.port(), RingSecret.generate()));
    assertTrue(e.getMessage().contains("refused the metrics channel"), e.getMessage());
    assertTrue(e.getMessage().contains("must share the run secret"), e.getMessage());

    // An impostor that ignores the refusal: a wrong proof, then well-formed frames.
    try (Socket impostor = new Socket(HOST, server.port())) {
      impostor.setSoTimeout(READ_TIMEOUT_MS);
      DataInputStream in = new DataInputStream(impostor.getInputStream());
      byte[] nonce = new byte[MetricsServer.NONCE_BYTES];
      in.readFully(nonce);
      // One write: the server closes as soon as it has checked the proof, so a second write could fail.
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.write(RingSecret.generate().mac(MetricsServer.ROLE, nonce));
      writeFrame(out, MetricsEvent.of("step").with("step", 666).toJson());
      impostor.getOutputStream().write(bytes.toByteArray());
      assertClosedWithoutAcceptance(impostor, 0);
    }
    assertOnlyTheMarkerArrivesNext();
  }

  @Test
  void aStrangerSendingGarbageIsRefusedAndTheServerKeepsServing() throws Exception {
    try (Socket stranger = new Socket(HOST, server.port())) {
      stranger.setSoTimeout(READ_TIMEOUT_MS);
      byte[] garbage = "GET / HTTP/1.1\r\nHost: driver\r\n\r\n{\"event\":\"step\",\"step\":1}\n"
          .getBytes(StandardCharsets.US_ASCII);
      stranger.getOutputStream().write(garbage);
      stranger.getOutputStream().flush();
      assertClosedWithoutAcceptance(stranger, MetricsServer.NONCE_BYTES);
    }
    try (Socket shortStranger = new Socket(HOST, server.port())) {
      shortStranger.setSoTimeout(READ_TIMEOUT_MS);
      shortStranger.getOutputStream().write(new byte[] {1, 2, 3});
      shortStranger.shutdownOutput(); // fewer bytes than a proof, then end of stream
      assertClosedWithoutAcceptance(shortStranger, MetricsServer.NONCE_BYTES);
    }
    assertOnlyTheMarkerArrivesNext();
  }

  @Test
  void anAuthenticatedPeerLosesTheChannelOnAnOversizedFrameButNotOnAMalformedLine() throws Exception {
    try (Socket peer = new Socket(HOST, server.port())) {
      peer.setSoTimeout(READ_TIMEOUT_MS);
      DataInputStream in = new DataInputStream(peer.getInputStream());
      byte[] nonce = new byte[MetricsServer.NONCE_BYTES];
      in.readFully(nonce);
      DataOutputStream out = new DataOutputStream(peer.getOutputStream());
      out.write(secret.mac(MetricsServer.ROLE, nonce));
      out.flush();
      assertEquals(1, in.read(), "the server accepts a correct proof");

      writeFrame(out, "not json");
      writeFrame(out, "{\"no_event\":1}");
      writeFrame(out, MetricsEvent.of("eval").with("val_loss", 2.5).toJson());
      MetricsEvent e = next();
      assertEquals("eval", e.event(), "malformed lines are skipped, the channel stays open");
      assertEquals(2.5, e.number("val_loss"));

      out.writeInt(MetricsServer.MAX_LINE_BYTES + 1);
      out.flush();
      assertClosedWithoutAcceptance(peer, 0);
    }
    assertOnlyTheMarkerArrivesNext();
  }

  /**
   * Connects a client with the run secret and sends a marker. The server serves one connection at
   * a time, so everything an earlier connection delivered is in the sink before the marker.
   */
  private void assertOnlyTheMarkerArrivesNext() throws Exception {
    try (MetricsClient client = new MetricsClient(HOST, server.port(), secret)) {
      client.send(MetricsEvent.of("done").with("marker", 1));
    }
    MetricsEvent first = next();
    assertEquals("done", first.event(), "an event of a refused connection reached the sink: " + first);
    assertTrue(received.isEmpty(), "unexpected events after the marker: " + received);
  }

  /** Reads until the server closes: at most {@code expectedBytes} (its nonce) and never the acceptance byte. */
  private static void assertClosedWithoutAcceptance(Socket socket, int expectedBytes) throws IOException {
    InputStream in = socket.getInputStream();
    int total = 0;
    try {
      while (in.read() >= 0) {
        total++;
      }
    } catch (SocketTimeoutException e) {
      fail("the server kept the connection open for " + READ_TIMEOUT_MS + " ms after " + total + " bytes");
    } catch (IOException e) {
      // A reset (the server closed with our bytes unread) is a refusal too.
    }
    assertTrue(total <= expectedBytes, "expected the connection closed after at most " + expectedBytes
        + " bytes, found " + total + " (the server accepted the peer)");
  }

  private static void writeFrame(DataOutputStream out, String json) throws IOException {
    byte[] line = json.getBytes(StandardCharsets.UTF_8);
    out.writeInt(line.length);
    out.write(line);
    out.flush();
  }

  private MetricsEvent next() throws InterruptedException {
    MetricsEvent e = received.poll(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    assertNotNull(e, "no metrics event arrived within " + READ_TIMEOUT_MS + " ms");
    return e;
  }
}
