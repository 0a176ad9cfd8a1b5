// Failure behaviour of the ring over real sockets (TCP and Unix domain): dead,
// silent, unauthenticated, outdated and malicious peers. Every case must end in a RingException that
// names the peer and the operation, quickly (the I/O timeouts are set far above
// the test timeouts, so a pass proves the failure was detected, not waited out),
// and leave no ring threads behind.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RingFaultTest {
  private static final Duration LONG = Duration.ofSeconds(120);

  private static RingConfig config(String runId) {
    return RingConfig.defaults(runId, RingHarness.SECRET).withBindHost("127.0.0.1")
        .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(2), LONG);
  }

  @AfterEach
  void noRingThreadsAreLeftBehind() throws InterruptedException {
    List<String> alive = RingHarness.ringThreadsAfter(Duration.ofSeconds(10));
    assertTrue(alive.isEmpty(), "ring threads still alive after close: " + alive);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aPeerThatClosesMidTransferFailsItsNeighboursPromptly(LinkTransport transport) throws Exception {
    // 128 MiB per rank with 64 KiB segments: thousands of frames, far longer than the 30 ms
    // before rank 2 closes even on a fast machine, so the close lands mid-transfer.
    int count = 32_000_000;
    RingConfig config = config("close-mid").withSegmentBytes(64 << 10).withTransport(transport);
    List<Object> outcomes = RingHarness.run(3, config, ring -> {
      ByteBuffer buf = ByteBuffer.allocateDirect(count * 4);
      if (ring.rank() == 2) {
        CompletableFuture<Void> inFlight = ring.allReduceAsync(buf, 0, count, ReduceOp.SUM);
        Thread.sleep(30);
        ring.close();
        return inFlight.handle((v, e) -> e).get();
      }
      return assertThrows(RingException.class, () -> ring.allReduce(buf, ReduceOp.SUM));
    });
    // Both survivors fail; whichever neighbour of rank 2 notices first names it, and the other
    // may instead see that first survivor close its sockets (the failure cascades around the ring).
    RingException atRank0 = assertInstanceOf(RingException.class, outcomes.get(0));
    RingException atRank1 = assertInstanceOf(RingException.class, outcomes.get(1));
    assertTrue(atRank0.getMessage().contains("rank 2 (127.0.0.1:")
        || atRank1.getMessage().contains("rank 2 (127.0.0.1:"),
        "no survivor named rank 2: " + atRank0.getMessage() + " / " + atRank1.getMessage());
    assertNotNull(outcomes.get(2), "rank 2's own collective must fail once it closes");
  }

  @Test
  void aPeerThatNeverListensFailsConnectNamingIt() throws Exception {
    int deadPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      deadPort = probe.getLocalPort();
    }
    InetSocketAddress dead = new InetSocketAddress("127.0.0.1", deadPort);
    RingConfig config = config("never").withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), LONG);
    RingException e = assertThrows(RingException.class,
        () -> RingCommunicator.connect(config, RawPeer.rank0Of2(self -> List.of(self, RingAddress.tcpOnly(dead)))));
    assertEquals(1, e.peer().rank(), e.getMessage());
    assertTrue(e.getMessage().contains("127.0.0.1:" + deadPort), e.getMessage());
    assertTrue(e.getMessage().contains("within 2000 ms"), e.getMessage());
  }

  @Test
  void aSilentPeerFailsTheHandshakeAtItsTimeout() throws Exception {
    try (RawPeer silent = new RawPeer()) {
      RingException e = assertThrows(RingException.class,
          () -> RingCommunicator.connect(config("silent"), silent.rendezvousForRank0()));
      assertEquals(1, e.peer().rank(), e.getMessage());
      assertEquals(RingException.Operation.TIMEOUT, e.operation(), e.getMessage());
      assertTrue(e.getMessage().contains("handshake"), e.getMessage());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aWrongSecretIsRefusedOnBothSidesWithoutRevealingEitherSecret(LinkTransport transport) throws Exception {
    RingSecret other = RingSecret.generate();
    RingConfig good = config("secret").withTransport(transport);
    RingConfig bad = new RingConfig("secret", other, "127.0.0.1", 0, good.connectTimeout(),
        good.handshakeTimeout(), LONG, good.segmentBytes(), good.socketBufferBytes(), good.codec(), transport, null,
        RingConfig.DEFAULT_MAX_PENDING_HANDSHAKES, RingProtection.NONE);
    Exception e = assertThrows(RingException.class,
        () -> RingHarness.run(2, rank -> rank == 1 ? bad : good, ring -> null));
    RingException ring = (RingException) e;
    // The connecting side fails the handshake at once; the accepting side drops the unauthenticated
    // connection and, on a loaded machine, may reach its own deadline first. Either error must say
    // that a secret mismatch is the likely cause.
    assertTrue(ring.operation() == RingException.Operation.HANDSHAKE
        || ring.operation() == RingException.Operation.ACCEPT, e.getMessage());
    if (ring.operation() == RingException.Operation.ACCEPT) {
      assertTrue(e.getMessage().contains("dropped 1 unauthenticated connection"), e.getMessage());
    }
    assertTrue(e.getMessage().contains("secret"), e.getMessage());
    assertNotNull(ring.peer(), e.getMessage());
    assertTrue(e.getMessage().contains("rank " + ring.peer().rank() + " (127.0.0.1:"), e.getMessage());
    // Under AUTO the first error may come from either link: the refused Unix socket, or the TCP
    // fallback of the other direction once the refused rank has closed its Unix listener.
    if (transport == LinkTransport.TCP) {
      assertFalse(ring.peer().isUnixSocket(), e.getMessage());
    }
    assertEquals(ring.peer().isUnixSocket(), e.getMessage().contains("via unix socket"), e.getMessage());
    for (RingSecret s : new RingSecret[] {RingHarness.SECRET, other}) {
      String encoded = Base64.getEncoder().encodeToString(s.keyBytes());
      assertFalse(e.getMessage().contains(encoded), "the secret leaked into: " + e.getMessage());
    }
  }

  @Test
  void aPeerOfAnotherProtocolVersionIsRefusedNamingBothVersions() throws Exception {
    // The rank that connects names both versions, whichever end is outdated: rank 0 connects to
    // the outdated rank 1, and rank 1 to rank 0, which answers its own HELLO before dropping it.
    try (RawPeer outdated = new RawPeer()) {
      RingConfig config = config("version");
      CompletableFuture<Exception> asAcceptor = CompletableFuture.supplyAsync(() -> {
        try {
          outdated.acceptHandshake(config, (short) 99);
          return null;
        } catch (Exception refused) {
          return refused; // rank 0 refuses and closes; that is the point
        }
      });
      CompletableFuture<Exception> asConnector = CompletableFuture.supplyAsync(() -> {
        try {
          outdated.connectHandshake(config, (short) 99);
          return null;
        } catch (Exception refused) {
          return refused;
        }
      });
      RingException e = assertThrows(RingException.class,
          () -> RingCommunicator.connect(config, outdated.rendezvousForRank0()));
      assertEquals(RingException.Operation.HANDSHAKE, e.operation(), e.getMessage());
      assertTrue(e.getMessage().contains("version 99") && e.getMessage().contains("speaks " + Handshake.PROTOCOL_VERSION), e.getMessage());
      assertNotNull(asAcceptor.get(10, TimeUnit.SECONDS), "rank 0 must have hung up on the outdated acceptor");
      Exception atOutdated = asConnector.get(10, TimeUnit.SECONDS);
      assertNotNull(atOutdated, "the outdated rank's own handshake must fail");
      assertTrue(atOutdated.getMessage().contains("version " + Handshake.PROTOCOL_VERSION) && atOutdated.getMessage().contains("speaks 99"),
          atOutdated.getMessage());
    }
  }

  @Test
  void aSilentPeerOverAUnixSocketFailsTheHandshakeAtItsTimeout() throws Exception {
    try (RawPeer silent = RawPeer.overUnixSocket()) {
      long start = System.nanoTime();
      RingException e = assertThrows(RingException.class,
          () -> RingCommunicator.connect(config("silent-unix"), silent.rendezvousForRank0()));
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertEquals(1, e.peer().rank(), e.getMessage());
      assertTrue(e.peer().isUnixSocket(), "rank 0 should have reached the peer over its unix socket: " + e.getMessage());
      assertEquals(RingException.Operation.TIMEOUT, e.operation(), e.getMessage());
      assertTrue(e.getMessage().contains("handshake") && e.getMessage().contains("via unix socket "
          + silent.address.unixSocket()), e.getMessage());
      assertTrue(ms < 2000 + 3000, "the 2 s handshake timeout took " + ms + " ms");
    }
  }

  @Test
  void aPeerThatStopsSendingOverAUnixSocketFailsTheCollectiveAtTheIoTimeout() throws Exception {
    RingConfig config = config("stalled-unix").withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(2),
        Duration.ofMillis(800));
    try (RawPeer stalled = RawPeer.overUnixSocket()) {
      CompletableFuture<Void> script = CompletableFuture.runAsync(() -> {
        try {
          stalled.connectHandshake(config, Handshake.PROTOCOL_VERSION);
          stalled.acceptHandshake(config);
        } catch (Exception ex) {
          throw new IllegalStateException(ex);
        }
      });
      try (RingCommunicator ring = RingCommunicator.connect(config, stalled.rendezvousForRank0())) {
        script.get(10, TimeUnit.SECONDS);
        assertTrue(ring.leftPeer().isUnixSocket() && ring.rightPeer().isUnixSocket(),
            ring.leftPeer() + " / " + ring.rightPeer());
        ByteBuffer buf = ByteBuffer.allocateDirect(100 * 4);
        long start = System.nanoTime();
        RingException e = assertThrows(RingException.class, () -> ring.allReduce(buf, ReduceOp.SUM));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(RingException.Operation.TIMEOUT, e.operation(), e.getMessage());
        assertEquals(1, e.peer().rank(), e.getMessage());
        assertTrue(e.getMessage().contains("no data for 800 ms") && e.getMessage().contains("via unix socket"),
            e.getMessage());
        assertTrue(ms >= 700 && ms < 800 + 3000, "the 800 ms I/O timeout took " + ms + " ms");
      }
    }
  }

  @Test
  void aTruncatedFrameFailsTheCollectiveWhenThePeerCloses() throws Exception {
    RingException e = againstMaliciousPeer("truncated", peer -> {
      peer.writeFrame(1, 0, 200, 100); // promises 200 bytes, sends 100, hangs up
      peer.close();
    });
    assertEquals(RingException.Operation.CLOSED, e.operation(), e.getMessage());
    assertTrue(e.getMessage().contains("100 bytes of its payload"), e.getMessage());
  }

  @Test
  void anOversizedFrameIsRejectedBeforeAnyPayloadIsRead() throws Exception {
    RingException e = againstMaliciousPeer("oversized", peer -> peer.writeFrame(1, 0, 1 << 30, 0));
    assertEquals(RingException.Operation.PROTOCOL, e.operation(), e.getMessage());
    assertTrue(e.getMessage().contains("carries 1073741824 payload bytes, expected 200"), e.getMessage());
  }

  @Test
  void aFrameFromAnotherCollectiveIsRejected() throws Exception {
    RingException e = againstMaliciousPeer("out-of-step", peer -> peer.writeFrame(7, 0, 200, 200));
    assertEquals(RingException.Operation.PROTOCOL, e.operation(), e.getMessage());
    assertTrue(e.getMessage().contains("same collectives in the same order"), e.getMessage());
  }

  @FunctionalInterface
  private interface Misbehaviour {
    void act(RawPeer peer) throws Exception;
  }

  /** Rank 0 is a real communicator reducing 100 floats; rank 1 handshakes properly, then misbehaves. */
  private RingException againstMaliciousPeer(String runId, Misbehaviour misbehaviour) throws Exception {
    RingConfig config = config(runId);
    try (RawPeer peer = new RawPeer()) {
      CompletableFuture<Void> script = CompletableFuture.runAsync(() -> {
        try {
          peer.sendJunkConnection(); // also checks that a stray non-ring connection is ignored
          peer.connectHandshake(config, Handshake.PROTOCOL_VERSION);
          peer.acceptHandshake(config);
          misbehaviour.act(peer);
        } catch (Exception ex) {
          throw new IllegalStateException(ex);
        }
      });
      try (RingCommunicator ring = RingCommunicator.connect(config, peer.rendezvousForRank0())) {
        ByteBuffer buf = ByteBuffer.allocateDirect(100 * 4);
        RingException e = assertThrows(RingException.class, () -> ring.allReduce(buf, ReduceOp.SUM));
        assertEquals(1, e.peer().rank(), e.getMessage());
        script.get(10, TimeUnit.SECONDS);
        return e;
      }
    }
  }
}
