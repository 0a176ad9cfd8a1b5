// The metrics channel over real loopback sockets. Authentication: rank 0 with the run secret gets
// its events to the sinks in order; a client with another secret, an impostor that answers the
// challenge wrongly and then sends frames anyway, a stranger sending garbage and a peer of another
// protocol version are refused, and nothing they send reaches a sink. Availability: silent,
// dripping and many strangers, a rank 0 killed with its socket open, a zombie rank 0 still
// streaming and an idle rank 0 never keep a retry's rank 0 out, and a superseded connection
// delivers nothing after the switch; a slow reader still gets every event of a closed rank 0 when
// the driver waits for the channel to drain. Not a test of the sinks (MetricsLog, TensorBoardWriter).
// Why over 300 lines: one fault per test, all against the same real server and raw-socket peer fixtures.
package org.ringtrain.driver.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.sync.RingSecret;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MetricsServerTest {
  private static final String HOST = "127.0.0.1";
  private static final int READ_TIMEOUT_MS = RawMetricsPeer.READ_TIMEOUT_MS;

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

  /** Replaces the default server with one of shorter limits. */
  private void restart(Duration authTimeout, Duration idleTimeout, int maxPending) throws IOException {
    server.close();
    server = new MetricsServer(HOST, secret, authTimeout, idleTimeout, maxPending).addSink(received::add);
  }

  @Test
  void aClientWithTheRunSecretDeliversEveryEventInOrder() throws Exception {
    try (MetricsClient client = new MetricsClient(HOST, server.port(), secret, 0)) {
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
  void awaitDrainedLetsASlowSinkReceiveEveryEventSentBeforeRankZeroClosed() throws Exception {
    List<MetricsEvent> slow = Collections.synchronizedList(new ArrayList<>());
    server.addSink(e -> {
      sleepQuietly(10); // a loaded driver: the channel is read more slowly than rank 0 writes
      slow.add(e);
    });
    try (MetricsClient client = new MetricsClient(HOST, server.port(), secret, 0)) {
      for (int step = 0; step < 100; step++) {
        client.send(MetricsEvent.of("step").with("step", step));
      }
    } // rank 0's task ends here: flushed and closed, most events still unread by the driver
    assertTrue(slow.size() < 100, "the sink is still behind when rank 0 has closed: " + slow.size());
    assertTrue(server.awaitDrained(Duration.ofSeconds(20)), "the channel drains once rank 0 has closed it");
    server.close();
    assertEquals(100, slow.size(), "every event rank 0 sent reached the sink before the server closed");
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aClientWithAnotherSecretIsRefusedAndItsEventsNeverArrive() throws Exception {
    IOException e = assertThrows(IOException.class,
        () -> new MetricsClient(HOST, server.port(), RingSecret.generate(), 0));
    assertTrue(e.getMessage().contains("refused the metrics channel"), e.getMessage());
    assertTrue(e.getMessage().contains("must share the run secret"), e.getMessage());

    // An impostor that ignores the refusal: a hello with a wrong proof, then well-formed frames.
    try (RawMetricsPeer impostor = RawMetricsPeer.connect(HOST, server.port())) {
      byte[] nonce = impostor.readNonce();
      // One write: the server closes as soon as it has checked the proof, so a second write could fail.
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.write(MetricsProtocol.hello(RingSecret.generate(), nonce, MetricsProtocol.VERSION, 0));
      bytes.write(RawMetricsPeer.frame(MetricsEvent.of("step").with("step", 666).toJson()));
      impostor.out.write(bytes.toByteArray());
      assertEquals(0, impostor.readUntilClosed(), "the impostor got no status byte");
    }
    assertOnlyTheMarkerArrivesNext(0);
  }

  @Test
  void aStrangerSendingGarbageIsRefusedAndTheServerKeepsServing() throws Exception {
    try (RawMetricsPeer stranger = RawMetricsPeer.connect(HOST, server.port())) {
      stranger.out.write("GET / HTTP/1.1\r\nHost: driver\r\n\r\n{\"event\":\"step\",\"step\":1}\n"
          .getBytes(StandardCharsets.US_ASCII));
      stranger.out.flush();
      assertTrue(stranger.readUntilClosed() <= MetricsProtocol.NONCE_BYTES, "the server accepted a stranger");
    }
    try (RawMetricsPeer shortStranger = RawMetricsPeer.connect(HOST, server.port())) {
      shortStranger.out.write(new byte[] {1, 2, 3});
      shortStranger.socket.shutdownOutput(); // fewer bytes than a hello, then end of stream
      assertTrue(shortStranger.readUntilClosed() <= MetricsProtocol.NONCE_BYTES, "the server accepted a stranger");
    }
    assertOnlyTheMarkerArrivesNext(0);
  }

  @Test
  void aPeerWithTheSecretButAnotherProtocolVersionIsToldSoAndClosed() throws Exception {
    try (RawMetricsPeer peer = RawMetricsPeer.connect(HOST, server.port())) {
      peer.out.write(MetricsProtocol.hello(secret, peer.readNonce(), MetricsProtocol.VERSION + 1, 0));
      peer.out.flush();
      assertEquals(MetricsProtocol.UNKNOWN_VERSION, peer.in.read());
      assertEquals(0, peer.readUntilClosed());
    }
    assertOnlyTheMarkerArrivesNext(0);
  }

  @Test
  void anAuthenticatedPeerLosesTheChannelOnAnOversizedFrameButNotOnAMalformedLine() throws Exception {
    try (RawMetricsPeer peer = RawMetricsPeer.authenticated(HOST, server.port(), secret, 0)) {
      peer.writeFrame("not json");
      peer.writeFrame("{\"no_event\":1}");
      peer.writeFrame(MetricsEvent.of("eval").with("val_loss", 2.5).toJson());
      MetricsEvent e = next();
      assertEquals("eval", e.event(), "malformed lines are skipped, the channel stays open");
      assertEquals(2.5, e.number("val_loss"));

      peer.out.writeInt(MetricsProtocol.MAX_LINE_BYTES + 1);
      peer.out.flush();
      assertEquals(0, peer.readUntilClosed());
    }
    assertOnlyTheMarkerArrivesNext(0);
  }

  @Test
  void aSilentStrangerNeitherHoldsTheChannelNorOutlivesTheAuthenticationDeadline() throws Exception {
    restart(Duration.ofSeconds(20), MetricsServer.DEFAULT_IDLE_TIMEOUT, MetricsServer.DEFAULT_MAX_PENDING);
    try (RawMetricsPeer stranger = RawMetricsPeer.connect(HOST, server.port())) {
      stranger.readNonce();
      deliverThroughAClient(0, 3);
      assertTrue(stranger.stillOpenAfter(1), "rank 0 was served while the stranger waited, not after it");
    }
    Duration deadline = Duration.ofSeconds(1);
    restart(deadline, MetricsServer.DEFAULT_IDLE_TIMEOUT, MetricsServer.DEFAULT_MAX_PENDING);
    try (RawMetricsPeer stranger = RawMetricsPeer.connect(HOST, server.port())) {
      long connected = System.nanoTime();
      assertEquals(MetricsProtocol.NONCE_BYTES, stranger.readUntilClosed());
      assertClosedNear(deadline, connected, "the silent stranger");
    }
  }

  @Test
  void aDrippingStrangerNeitherHoldsTheChannelNorOutlivesTheAuthenticationDeadline() throws Exception {
    restart(Duration.ofSeconds(20), MetricsServer.DEFAULT_IDLE_TIMEOUT, MetricsServer.DEFAULT_MAX_PENDING);
    try (RawMetricsPeer dripper = RawMetricsPeer.connect(HOST, server.port())) {
      dripper.readNonce();
      Thread drip = drip(dripper, new AtomicInteger());
      deliverThroughAClient(0, 3);
      assertTrue(dripper.stillOpenAfter(1), "rank 0 was served while the stranger dripped, not after it");
      dripper.close();
      drip.join(READ_TIMEOUT_MS);
    }
    Duration deadline = Duration.ofSeconds(1);
    restart(deadline, MetricsServer.DEFAULT_IDLE_TIMEOUT, MetricsServer.DEFAULT_MAX_PENDING);
    try (RawMetricsPeer dripper = RawMetricsPeer.connect(HOST, server.port())) {
      long connected = System.nanoTime();
      AtomicInteger dripped = new AtomicInteger();
      Thread drip = drip(dripper, dripped);
      assertEquals(MetricsProtocol.NONCE_BYTES, dripper.readUntilClosed());
      assertClosedNear(deadline, connected, "the dripping stranger (" + dripped.get() + " bytes dripped)");
      dripper.close();
      drip.join(READ_TIMEOUT_MS);
    }
  }

  /** Writes one byte every 200 ms until a whole hello's worth or a failed write: each byte re-arms a read timeout. */
  private static Thread drip(RawMetricsPeer dripper, AtomicInteger dripped) {
    Thread drip = new Thread(() -> {
      try {
        for (int i = 0; i < MetricsProtocol.HELLO_BYTES; i++) {
          dripper.out.write(7);
          dripper.out.flush();
          dripped.incrementAndGet();
          Thread.sleep(200);
        }
      } catch (IOException | InterruptedException e) {
        // the connection was closed: what the test waits for
      }
    }, "dripping-stranger");
    drip.start();
    return drip;
  }

  private static void assertClosedNear(Duration deadline, long connectedNanos, String who) {
    long heldMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connectedNanos);
    assertTrue(heldMs >= deadline.toMillis() - 300 && heldMs < deadline.toMillis() + 3_000, "expected " + who
        + " closed at the " + deadline.toMillis() + " ms authentication deadline, found it held " + heldMs + " ms");
  }

  @Test
  void manyStrangersAtOnceCannotKeepRankZeroOut() throws Exception {
    int maxPending = 4;
    restart(Duration.ofSeconds(20), MetricsServer.DEFAULT_IDLE_TIMEOUT, maxPending);
    List<RawMetricsPeer> strangers = new ArrayList<>();
    try {
      for (int i = 0; i < 3 * maxPending; i++) {
        strangers.add(RawMetricsPeer.connect(HOST, server.port()));
      }
      // Each newcomer beyond the cap drops the oldest, long before the 20 s deadline.
      for (int i = 0; i < 2 * maxPending; i++) {
        assertTrue(strangers.get(i).readUntilClosed() <= MetricsProtocol.NONCE_BYTES, "stranger " + i);
      }
      deliverThroughAClient(0, 3);
      long handlers = 0;
      for (int tries = 0; tries < 100; tries++) {
        handlers = Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith("ringtrain-metrics-connection-")).count();
        if (handlers <= maxPending) {
          break;
        }
        Thread.sleep(50);
      }
      assertTrue(handlers <= maxPending, "expected at most " + maxPending + " connection threads, found " + handlers);
    } finally {
      for (RawMetricsPeer stranger : strangers) {
        stranger.close();
      }
    }
  }

  @Test
  void aRetrysRankZeroSupersedesAKilledRankZeroThatLeftItsSocketOpen() throws Exception {
    try (RawMetricsPeer killed = RawMetricsPeer.authenticated(HOST, server.port(), secret, 0)) {
      killed.writeFrame(MetricsEvent.of("step").with("step", 1).toJson());
      assertEquals(1, next().number("step"));
      // The task is gone but its socket was never closed: no FIN, no more bytes.
      deliverThroughAClient(1, 5);
      assertEquals(0, killed.readUntilClosed(), "the server closed the superseded connection");
      try {
        killed.writeFrame(MetricsEvent.of("step").with("step", 666).toJson());
      } catch (IOException e) {
        // the connection is closed; either way the frame must not arrive
      }
    }
    assertOnlyTheMarkerArrivesNext(1);
  }

  @Test
  void aSupersededRankZeroThatKeepsSendingDeliversNothingAfterTheSwitch() throws Exception {
    try (RawMetricsPeer zombie = RawMetricsPeer.authenticated(HOST, server.port(), secret, 0)) {
      Thread stream = new Thread(() -> {
        try {
          for (int step = 0; step < 100_000; step++) {
            zombie.writeFrame(MetricsEvent.of("step").with("attempt", 0).with("step", step).toJson());
            Thread.sleep(1);
          }
        } catch (IOException | InterruptedException e) {
          // superseded: the server closed the zombie's connection
        }
      }, "zombie-rank-0");
      stream.start();
      assertEquals(0, next().number("attempt"), "the zombie's events arrive while it is current");
      try (MetricsClient retry = new MetricsClient(HOST, server.port(), secret, 1)) {
        for (int step = 0; step < 5; step++) {
          retry.send(MetricsEvent.of("step").with("attempt", 1).with("step", step));
        }
      }
      int retrySteps = 0;
      while (retrySteps < 5) {
        MetricsEvent e = next();
        if (e.number("attempt") == 1) {
          assertEquals(retrySteps++, e.number("step"));
        } else {
          assertEquals(0, retrySteps, "an event of the superseded attempt arrived after the retry's: " + e);
        }
      }
      stream.join(READ_TIMEOUT_MS);
      assertFalse(stream.isAlive(), "the zombie's connection was not closed");
    }
    assertOnlyTheMarkerArrivesNext(1);
  }

  @Test
  void aRankZeroOfAnOlderAttemptIsRefusedOnceANewerOneReports() throws Exception {
    deliverThroughAClient(2, 1);
    IOException e = assertThrows(IOException.class, () -> new MetricsClient(HOST, server.port(), secret, 1));
    assertTrue(e.getMessage().contains("stage attempt 1"), e.getMessage());
    assertTrue(e.getMessage().contains("superseded attempt"), e.getMessage());
    assertOnlyTheMarkerArrivesNext(2);
  }

  @Test
  void anIdleRankZeroIsClosedAfterTheIdleTimeoutAndMayReconnect() throws Exception {
    restart(MetricsServer.DEFAULT_AUTH_TIMEOUT, Duration.ofMillis(500), MetricsServer.DEFAULT_MAX_PENDING);
    try (RawMetricsPeer idle = RawMetricsPeer.authenticated(HOST, server.port(), secret, 0)) {
      long quietFrom = System.nanoTime();
      assertEquals(0, idle.readUntilClosed());
      long quietMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - quietFrom);
      assertTrue(quietMs >= 400, "closed after " + quietMs + " ms of silence, before the 500 ms idle timeout");
    }
    assertOnlyTheMarkerArrivesNext(0);
  }

  @Test
  void closingTheServerEndsItsOpenConnections() throws Exception {
    try (RawMetricsPeer rankZero = RawMetricsPeer.authenticated(HOST, server.port(), secret, 0);
         RawMetricsPeer stranger = RawMetricsPeer.connect(HOST, server.port())) {
      stranger.readNonce();
      server.close();
      assertEquals(0, rankZero.readUntilClosed());
      assertEquals(0, stranger.readUntilClosed());
    }
  }

  @Test
  void aNegativeStageAttemptIsRefusedBeforeConnecting() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MetricsClient(HOST, server.port(), secret, -1));
    assertTrue(e.getMessage().contains("stage attempt must be >= 0, but found -1"), e.getMessage());
  }

  /** Rank 0 of {@code attempt} sends {@code count} step events, which must all arrive in order. */
  private void deliverThroughAClient(int attempt, int count) throws Exception {
    try (MetricsClient client = new MetricsClient(HOST, server.port(), secret, attempt)) {
      for (int step = 0; step < count; step++) {
        client.send(MetricsEvent.of("step").with("attempt", attempt).with("step", step));
      }
    }
    for (int step = 0; step < count; step++) {
      MetricsEvent e = next();
      assertEquals(attempt, e.number("attempt"), "an event of another connection arrived: " + e);
      assertEquals(step, e.number("step"));
    }
  }

  /**
   * Connects rank 0 of {@code attempt} and sends a marker, which must be the next and only event:
   * the connections refused or closed before it (each closed by the server, as the tests assert)
   * delivered nothing.
   */
  private void assertOnlyTheMarkerArrivesNext(int attempt) throws Exception {
    try (MetricsClient client = new MetricsClient(HOST, server.port(), secret, attempt)) {
      client.send(MetricsEvent.of("done").with("marker", 1));
    }
    MetricsEvent first = next();
    assertEquals("done", first.event(), "an event of a refused or superseded connection reached the sink: " + first);
    Thread.sleep(100); // a late event of an old connection would land here
    assertTrue(received.isEmpty(), "unexpected events after the marker: " + received);
  }

  private MetricsEvent next() throws InterruptedException {
    MetricsEvent e = received.poll(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    assertNotNull(e, "no metrics event arrived within " + READ_TIMEOUT_MS + " ms");
    return e;
  }
}
