// Which transport each link of a real ring ends up on: Unix domain sockets
// between same-host ranks with AUTO, TCP when either end asks for TCP, when the
// host ids differ, or when the published socket cannot be reached; the
// socket directory's life cycle; and how the connecting side treats a
// neighbour that closes its connection unanswered. Every ring here also
// reduces a vector, so a link choice that the two ends disagree on would fail
// the sum.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RingConnectorTest {

  /** Each rank's links after a ring ran: {left is unix, right is unix}. */
  private static List<boolean[]> links(int n, IntFunction<RingConfig> configs, UnaryOperator<List<RingAddress>> tamper)
      throws Exception {
    return RingHarness.run(n, configs, tamper, ring -> {
      float[] values = new float[1001];
      java.util.Arrays.fill(values, ring.rank() + 1);
      ring.allReduce(values, ReduceOp.SUM);
      float expected = n * (n + 1) / 2f;
      for (int i = 0; i < values.length; i++) {
        assertEquals(expected, values[i], "rank " + ring.rank() + " index " + i);
      }
      return new boolean[] {ring.leftPeer().isUnixSocket(), ring.rightPeer().isUnixSocket()};
    });
  }

  /** Link r -> r+1 over a Unix socket, as both of its ends saw it; fails if the two ends disagree. */
  private static boolean[] linkIsUnix(List<boolean[]> links) {
    int n = links.size();
    boolean[] unix = new boolean[n];
    for (int r = 0; r < n; r++) {
      boolean atSender = links.get(r)[1];
      boolean atReceiver = links.get((r + 1) % n)[0];
      assertEquals(atSender, atReceiver, "the two ends of link " + r + " -> " + (r + 1) % n + " disagree");
      unix[r] = atSender;
    }
    return unix;
  }

  @AfterEach
  void nothingIsLeftBehind() throws Exception {
    assertTrue(RingHarness.ringThreadsAfter(Duration.ofSeconds(10)).isEmpty(), "ring threads left");
    assertEquals(List.of(), RingHarness.socketDirectoriesLeft(), "socket directories left");
  }

  @Test
  void autoLinksRanksOnOneHostOverUnixSockets() throws Exception {
    boolean[] unix = linkIsUnix(links(3, r -> RingHarness.config("auto"), UnaryOperator.identity()));
    for (int r = 0; r < 3; r++) {
      assertTrue(unix[r], "link " + r);
    }
  }

  @Test
  void tcpKeepsEveryLinkOnTcp() throws Exception {
    boolean[] unix = linkIsUnix(links(3, r -> RingHarness.config("tcp", LinkTransport.TCP),
        UnaryOperator.identity()));
    for (int r = 0; r < 3; r++) {
      assertFalse(unix[r], "link " + r);
    }
  }

  @Test
  void aTcpOnlyRankMakesBothOfItsLinksTcpAndLeavesTheOthersOnUnixSockets() throws Exception {
    // Rank 2 of 4 asks for TCP: links 1 -> 2 and 2 -> 3 use TCP, 3 -> 0 and 0 -> 1 Unix sockets.
    boolean[] unix = linkIsUnix(links(4, r -> RingHarness.config("mixed",
        r == 2 ? LinkTransport.TCP : LinkTransport.AUTO), UnaryOperator.identity()));
    assertTrue(unix[0], "0 -> 1");
    assertFalse(unix[1], "1 -> 2");
    assertFalse(unix[2], "2 -> 3");
    assertTrue(unix[3], "3 -> 0");
  }

  @Test
  void aPublishedSocketPathThatDoesNotExistFallsBackToTcp() throws Exception {
    // Every rank sees rank 1's socket at a path that does not exist, so 0 -> 1 falls back to TCP;
    // rank 1 itself still reaches rank 2 over rank 2's socket.
    UnaryOperator<List<RingAddress>> moveRank1 = all -> replace(all, 1, a ->
        new RingAddress(a.tcp(), a.hostId(), a.unixSocket().resolveSibling("gone").resolve("ring.sock")));
    boolean[] unix = linkIsUnix(links(3, r -> RingHarness.config("fallback"), moveRank1));
    assertFalse(unix[0], "0 -> 1 must have fallen back to TCP");
    assertTrue(unix[1], "1 -> 2");
    assertTrue(unix[2], "2 -> 0");
  }

  @Test
  void aNeighbourOnAnotherHostIsReachedOverTcp() throws Exception {
    UnaryOperator<List<RingAddress>> elsewhere = all -> replace(all, 1, a ->
        new RingAddress(a.tcp(), "another-host", a.unixSocket()));
    boolean[] unix = linkIsUnix(links(3, r -> RingHarness.config("elsewhere"), elsewhere));
    assertFalse(unix[0], "0 -> 1: rank 1 claims another host");
    // Rank 1 decides its own link by its own identity, which it knows first-hand.
    assertTrue(unix[1], "1 -> 2");
    assertTrue(unix[2], "2 -> 0");
  }

  @Test
  void theSocketDirectoryIsOwnerOnlyDuringSetUpAndGoneAfterIt() throws Exception {
    List<Path> seen = Collections.synchronizedList(new ArrayList<>());
    List<String> problems = Collections.synchronizedList(new ArrayList<>());
    UnaryOperator<List<RingAddress>> inspect = all -> {
      // Runs inside every rank's exchange, after all ranks published and before any connects.
      for (RingAddress a : all) {
        Path dir = a.unixSocket().getParent();
        try {
          String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(dir));
          if (!perms.equals("rwx------")) {
            problems.add(dir + " has permissions " + perms);
          }
          if (!Files.exists(a.unixSocket())) {
            problems.add(a.unixSocket() + " does not exist");
          }
        } catch (java.io.IOException e) {
          problems.add(dir + ": " + e); // a fast rank may already have removed its own
        }
        seen.add(dir);
      }
      return all;
    };
    linkIsUnix(links(2, r -> RingHarness.config("perms"), inspect));
    assertEquals(List.of(), problems.stream().filter(p -> !p.contains("NoSuchFile")).toList());
    assertFalse(seen.isEmpty());
    for (Path dir : seen) {
      assertFalse(Files.exists(dir), dir + " must be removed once the ring is connected");
    }
  }

  @Test
  void aNeighbourThatTurnsConnectionsAwayIsConnectedToAgain() throws Exception {
    RingConfig config = RingHarness.config("turned-away", LinkTransport.TCP);
    try (RawPeer busy = new RawPeer()) {
      CompletableFuture<Void> script = CompletableFuture.runAsync(() -> {
        try {
          busy.turnAway(3); // its handshake slots are full, three times over
          busy.acceptHandshake(config);
          busy.connectHandshake(config, Handshake.PROTOCOL_VERSION);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      try (RingCommunicator ring = RingCommunicator.connect(config, busy.rendezvousForRank0())) {
        script.get(10, TimeUnit.SECONDS);
        assertEquals(1, ring.rightPeer().rank());
      }
    }
  }

  @Test
  void aNeighbourThatTurnsAConnectionAwayAndStopsListeningFailsTheSetUpAtOnce() throws Exception {
    RingConfig config = RingHarness.config("ended", LinkTransport.TCP);
    try (RawPeer ended = new RawPeer()) {
      CompletableFuture<Void> script = CompletableFuture.runAsync(() -> {
        try {
          ended.turnAway(1);
          ended.stopListening();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      long start = System.nanoTime();
      RingException e = assertThrows(RingException.class,
          () -> RingCommunicator.connect(config, ended.rendezvousForRank0()));
      long ms = (System.nanoTime() - start) / 1_000_000;
      script.get(10, TimeUnit.SECONDS);
      assertEquals(RingException.Operation.HANDSHAKE, e.operation(), e.getMessage());
      assertEquals(1, e.peer().rank(), e.getMessage());
      assertTrue(e.getMessage().contains("stopped listening: it ended its own set-up"), e.getMessage());
      assertTrue(ms < config.connectTimeout().toMillis() / 2, "took " + ms + " ms, as if waiting out the timeout");
    }
  }

  private static List<RingAddress> replace(List<RingAddress> all, int rank,
      java.util.function.Function<RingAddress, RingAddress> change) {
    List<RingAddress> copy = new ArrayList<>(all);
    copy.set(rank, change.apply(all.get(rank)));
    return copy;
  }
}
