// The ring's set-up against strangers: connections to a rank's listeners from
// someone who is not its neighbour. One test per kind of stranger, each over
// both transports (under AUTO the strangers knock on the Unix socket and the
// TCP port), plus a flood, a replayed handshake and the error when the real
// neighbour never comes. Three real ranks set up while rank 0 gets the
// strangers; they connect after every rank listens and before any rank
// connects, so they are first in rank 0's accept queue, and rank 2 (rank 0's
// left neighbour) connects only once they have done their part. Every ring
// must come up and sum correctly. Short timeouts keep the class to seconds.
// Why over 300 lines: one test per kind of stranger and transport, all sharing the same three-rank set-up.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RingStrangerTest {
  private static final int WORLD = 3;
  /** Rank 0's left neighbour: the real connection the strangers compete with. */
  private static final int LEFT_OF_0 = WORLD - 1;

  private static RingConfig config(String runId, LinkTransport transport) {
    return RingConfig.defaults(runId, RingHarness.SECRET).withBindHost("127.0.0.1").withTransport(transport)
        .withTimeouts(Duration.ofSeconds(15), Duration.ofSeconds(2), Duration.ofSeconds(15));
  }

  /** One kind of stranger. */
  @FunctionalInterface
  private interface Stranger {
    /**
     * Connects to {@code to} and sends its opening bytes before returning; the future ends with
     * the rest of its script and holds what it saw of the rank.
     */
    CompletableFuture<?> knock(Strangers strangers, SocketAddress to, RingConfig config) throws Exception;
  }

  @AfterEach
  void nothingIsLeftBehind() throws Exception {
    assertTrue(RingHarness.ringThreadsAfter(Duration.ofSeconds(10)).isEmpty(), "ring threads left");
    assertEquals(List.of(), RingHarness.socketDirectoriesLeft(), "socket directories left");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aSilentStrangerDoesNotHoldUpTheSetUp(LinkTransport transport) throws Exception {
    ringSurvives("silent", transport, (strangers, to, config) -> {
      strangers.connect(to);
      return CompletableFuture.completedFuture(null);
    });
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aStrangerThatResetsInTheMiddleOfItsHelloIsDropped(LinkTransport transport) throws Exception {
    ringSurvives("reset", transport, (strangers, to, config) -> {
      SocketChannel ch = strangers.connect(to);
      Strangers.write(ch, Arrays.copyOf(helloOfRank(LEFT_OF_0, config), Handshake.PREFIX_BYTES));
      Strangers.reset(ch);
      return CompletableFuture.completedFuture(null);
    });
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aStrangerThatSendsFewerThanEightBytesAndClosesIsDropped(LinkTransport transport) throws Exception {
    ringSurvives("short", transport, (strangers, to, config) -> {
      SocketChannel ch = strangers.connect(to);
      Strangers.write(ch, Arrays.copyOf(helloOfRank(LEFT_OF_0, config), 5));
      ch.close();
      return CompletableFuture.completedFuture(null);
    });
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aStrangerThatSendsTheMagicAndThenGarbageIsDropped(LinkTransport transport) throws Exception {
    ringSurvives("garbage", transport, (strangers, to, config) -> {
      byte[] garbage = new byte[200];
      new Random(42).nextBytes(garbage);
      ByteBuffer.wrap(garbage).putInt(Handshake.MAGIC).putShort((short) 0x7a7a); // no version this rank speaks
      Strangers.write(strangers.connect(to), garbage);
      return CompletableFuture.completedFuture(null);
    });
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aStrangerWithoutTheMagicIsDropped(LinkTransport transport) throws Exception {
    ringSurvives("magic", transport, (strangers, to, config) -> {
      Strangers.write(strangers.connect(to), "GET / HTTP/1.1\r\nHost: ring\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      return CompletableFuture.completedFuture(null);
    });
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aStrangerOfAnotherProtocolVersionIsToldThisRanksVersionAndDropped(LinkTransport transport) throws Exception {
    List<Object> seen = ringSurvives("version", transport, (strangers, to, config) -> {
      SocketChannel ch = strangers.connect(to);
      Strangers.write(ch, new Handshake(config, LEFT_OF_0, WORLD, (short) 99).hello());
      return strangers.later(() -> ByteBuffer.wrap(Strangers.read(ch, Handshake.PREFIX_BYTES)).getShort(4));
    });
    for (Object version : seen) {
      assertEquals(Handshake.PROTOCOL_VERSION, version, "the version rank 0 answered with");
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aStrangerThatDeclaresAnOversizedRunIdIsDroppedWithoutAnAnswer(LinkTransport transport) throws Exception {
    List<Object> seen = ringSurvives("oversized", transport, (strangers, to, config) -> {
      SocketChannel ch = strangers.connect(to);
      ByteBuffer hello = ByteBuffer.allocate(Handshake.PREFIX_BYTES + 1000);
      hello.putInt(Handshake.MAGIC).putShort(Handshake.PROTOCOL_VERSION).putShort((short) 0xFFFF);
      Strangers.write(ch, hello.array());
      return strangers.later(() -> Strangers.verdict(ch));
    });
    for (Object verdict : seen) {
      assertTrue(Set.of("closed", "reset").contains(verdict), "rank 0 must hang up without an answer: " + verdict);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aRankOfAnEarlierStageAttemptIsDroppedAndToldWhy(LinkTransport transport) throws Exception {
    // The driver gives every stage attempt its own run id; a straggler of attempt 0 is a stranger
    // to attempt 1. It runs the real connector side, which names the mismatch from rank 0's answer.
    List<Object> seen = ringSurvives("job/attempt-1", transport, (strangers, to, config) -> {
      SocketChannel ch = strangers.connect(to);
      ch.configureBlocking(false);
      RingConfig straggler = config("job/attempt-0", transport);
      Peer label = new Peer(0, new InetSocketAddress("127.0.0.1", 1));
      return strangers.later(() -> {
        try {
          new Handshake(straggler, LEFT_OF_0, WORLD).asConnector(ch, label);
          return "accepted";
        } catch (Exception e) {
          return e.getMessage();
        }
      });
    });
    for (Object error : seen) {
      assertTrue(String.valueOf(error).contains("peer belongs to run 'job/attempt-1' but this rank to run "
          + "'job/attempt-0'"), String.valueOf(error));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aStrangerWithAWrongMacIsNotAccepted(LinkTransport transport) throws Exception {
    List<Object> seen = ringSurvives("mac", transport, (strangers, to, config) -> {
      SocketChannel ch = strangers.connect(to);
      byte[] hello = helloOfRank(LEFT_OF_0, config); // all public: run id, rank, world size, codec
      Strangers.write(ch, hello);
      return strangers.later(() -> {
        byte[] answer = Strangers.read(ch, hello.length + Handshake.MAC_BYTES);
        assertEquals(hello.length + Handshake.MAC_BYTES, answer.length, "rank 0 must answer a well-formed HELLO");
        byte[] guess = new byte[Handshake.MAC_BYTES];
        new Random(7).nextBytes(guess);
        Strangers.write(ch, guess);
        return Strangers.verdict(ch);
      });
    });
    assertEquals(Collections.nCopies(seen.size(), "closed"), seen, "rank 0 must hang up on a wrong MAC");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aFloodOf200ConnectionsDoesNotStopTheSetUp(LinkTransport transport) throws Exception {
    // More than maxPendingHandshakes (32) stay silent: rank 0 turns the rest away unread, and
    // rank 2 too while the slots are full, so rank 2 connects again until a slot frees.
    List<Object> seen = ringSurvives("flood", transport, (strangers, to, config) -> {
      strangers.connect(to);
      strangers.connect(to);
      return strangers.later(() -> {
        int connected = 2;
        try {
          for (; connected < 200; connected++) {
            strangers.connect(to);
          }
        } catch (IOException e) {
          // rank 0 stopped listening: the ring is up
        }
        return connected;
      });
    });
    for (Object connected : seen) {
      assertTrue((Integer) connected > RingConfig.DEFAULT_MAX_PENDING_HANDSHAKES, "only " + connected
          + " flood connections were made before the ring was up; the test did not fill rank 0's slots");
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void aReplayedHandshakeFailsBecauseEveryChallengeIsFresh(LinkTransport transport) throws Exception {
    // Capture: rank 2's real handshake with rank 0, through a relay, in a first set-up of the run.
    RingConfig capture = config("replay", LinkTransport.TCP);
    int helloBytes = helloOfRank(LEFT_OF_0, capture).length;
    byte[] sent;
    byte[] answered;
    try (RecordingRelay relay = new RecordingRelay()) {
      InetSocketAddress via = relay.address();
      RingHarness.runHooked(WORLD, r -> capture, (rank, all) -> {
        if (rank == 0) {
          relay.start(all.get(0).tcp());
        }
        List<RingAddress> throughRelay = new ArrayList<>(all);
        throughRelay.set(0, RingAddress.tcpOnly(via));
        return throughRelay;
      }, RingStrangerTest::sumsRight);
      sent = relay.fromClient();
      answered = relay.fromServer();
    }
    byte[] hello = Arrays.copyOf(sent, helloBytes);
    byte[] mac = Arrays.copyOfRange(sent, helloBytes, helloBytes + Handshake.MAC_BYTES);
    int beforeNonce = helloBytes - Handshake.NONCE_BYTES;
    assertArrayEquals(Arrays.copyOf(helloOfRank(LEFT_OF_0, capture), beforeNonce), Arrays.copyOf(hello, beforeNonce),
        "the relay must have recorded rank 2's HELLO");

    // Replay: the same bytes against a later set-up of the same run (same run id and secret).
    List<Object> seen = ringSurvives("replay", transport, (strangers, to, config) -> {
      SocketChannel ch = strangers.connect(to);
      Strangers.write(ch, hello);
      return strangers.later(() -> {
        byte[] answer = Strangers.read(ch, helloBytes + Handshake.MAC_BYTES);
        Strangers.write(ch, mac);
        return List.of(answer, Strangers.verdict(ch));
      });
    });
    byte[] firstNonce = Arrays.copyOfRange(answered, beforeNonce, helloBytes);
    for (Object o : seen) {
      List<?> replay = (List<?>) o;
      byte[] answer = (byte[]) replay.get(0);
      assertEquals(helloBytes + Handshake.MAC_BYTES, answer.length, "rank 0 must answer the replayed HELLO");
      byte[] nonce = Arrays.copyOfRange(answer, beforeNonce, helloBytes);
      assertFalse(Arrays.equals(firstNonce, nonce), "rank 0 challenged the replay with the recorded nonce");
      assertEquals("closed", replay.get(1), "rank 0 must hang up on the replayed MAC");
    }
  }

  @Test
  void whenTheNeighbourNeverComesTheErrorSaysHowManyStrangersWereDropped() throws Exception {
    RingConfig config = config("no-show", LinkTransport.TCP)
        .withTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofSeconds(15));
    try (RawPeer neighbour = new RawPeer(); Strangers strangers = new Strangers()) {
      // Rank 1 answers rank 0's connection but never connects back; three outdated strangers do.
      CompletableFuture<Void> answers = CompletableFuture.runAsync(() -> {
        try {
          neighbour.acceptHandshake(config);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      CompletableFuture<Void> knocks = CompletableFuture.runAsync(() -> {
        try {
          InetSocketAddress rank0 = neighbour.rank0.get(10, TimeUnit.SECONDS).tcp();
          for (int i = 0; i < 3; i++) {
            try (SocketChannel ch = strangers.connect(rank0)) {
              Strangers.write(ch, new Handshake(config, 1, 2, (short) 99).hello());
              Strangers.read(ch, Handshake.PREFIX_BYTES);
            }
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      RingException e = assertThrows(RingException.class,
          () -> RingCommunicator.connect(config, neighbour.rendezvousForRank0()));
      assertEquals(RingException.Operation.ACCEPT, e.operation(), e.getMessage());
      assertTrue(e.getMessage().contains("rank 1 (127.0.0.1:"), e.getMessage());
      assertTrue(e.getMessage().contains("did not connect and authenticate within 3000 ms; meanwhile it dropped 3 "
          + "unauthenticated connections"), e.getMessage());
      assertTrue(e.getMessage().contains("version 99"), e.getMessage());
      answers.get(10, TimeUnit.SECONDS);
      knocks.get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Sets up a ring of {@value #WORLD} ranks over {@code transport} while {@code stranger} knocks
   * once on each of rank 0's listeners, checks that it sums correctly, and returns what each
   * stranger saw.
   */
  private static List<Object> ringSurvives(String runId, LinkTransport transport, Stranger stranger)
      throws Exception {
    RingConfig config = config(runId, transport);
    try (Strangers strangers = new Strangers()) {
      CountDownLatch knocked = new CountDownLatch(1);
      List<CompletableFuture<?>> scripts = Collections.synchronizedList(new ArrayList<>());
      List<boolean[]> links = RingHarness.runHooked(WORLD, r -> config, (rank, all) -> {
        if (rank == 0) {
          try {
            for (SocketAddress to : Strangers.listenersOf(all.get(0))) {
              scripts.add(stranger.knock(strangers, to, config));
            }
          } catch (IOException e) {
            throw e;
          } catch (Exception e) {
            throw new IOException(e);
          } finally {
            knocked.countDown();
          }
        } else {
          awaitQuietly(knocked);
          if (rank == LEFT_OF_0) {
            awaitQuietly(CompletableFuture.allOf(scripts.toArray(new CompletableFuture<?>[0])));
          }
        }
        return all;
      }, RingStrangerTest::sumsRight);
      if (!runId.equals("flood")) {
        // The strangers must not have pushed a real link off its transport either.
        for (boolean[] link : links) {
          assertArrayEquals(new boolean[] {transport == LinkTransport.AUTO, transport == LinkTransport.AUTO}, link);
        }
      }
      List<Object> seen = new ArrayList<>();
      for (CompletableFuture<?> script : scripts) {
        seen.add(script.get(10, TimeUnit.SECONDS));
      }
      return seen;
    }
  }

  /** Each rank reduces 1001 floats holding rank + 1; returns {left link is Unix, right link is Unix}. */
  private static boolean[] sumsRight(RingCommunicator ring) throws Exception {
    float[] values = new float[1001];
    Arrays.fill(values, ring.rank() + 1);
    ring.allReduce(values, ReduceOp.SUM);
    float expected = WORLD * (WORLD + 1) / 2f;
    for (int i = 0; i < values.length; i++) {
      assertEquals(expected, values[i], "rank " + ring.rank() + " index " + i);
    }
    return new boolean[] {ring.leftPeer().isUnixSocket(), ring.rightPeer().isUnixSocket()};
  }

  /** The HELLO that {@code rank} of this ring would send: everything in it is public. */
  private static byte[] helloOfRank(int rank, RingConfig config) {
    return new Handshake(config, rank, WORLD).hello();
  }

  /** Waits up to 2 s for the strangers to connect; the ring goes on regardless. */
  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Waits up to 1.5 s for the strangers' scripts: longer would stall rank 1, whose handshake with
   * rank 2 waits meanwhile, past its 2 s handshake timeout.
   */
  private static void awaitQuietly(CompletableFuture<?> scripts) {
    try {
      scripts.get(1500, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // the ring goes on; the test's own assertions decide
    }
  }
}
