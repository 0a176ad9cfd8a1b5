// RingConfig.protection over real sockets, every rank a thread: the collectives
// give bit for bit the results of an unprotected ring under INTEGRITY and
// ENCRYPTION (world sizes 2 and 3, both transports, many frames per collective);
// a byte flipped in flight by a relay between two ranks fails the all-reduce
// with an INTEGRITY error naming the link, while without protection the same
// flip silently changes the sum on every rank alike; ranks that disagree on the
// protection refuse each other in the handshake.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RingProtectionTest {
  private static final int COUNT = 64; // one frame per chunk at N=2

  static Stream<Arguments> protectedRings() {
    List<Arguments> cases = new ArrayList<>();
    for (RingProtection protection : new RingProtection[] {RingProtection.INTEGRITY, RingProtection.ENCRYPTION}) {
      for (LinkTransport transport : LinkTransport.values()) {
        for (int n : new int[] {2, 3}) {
          cases.add(Arguments.of(protection, transport, n, WireCodec.FP32));
        }
      }
      cases.add(Arguments.of(protection, LinkTransport.TCP, 3, WireCodec.BF16));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}, {1}, world {2}, {3}")
  @MethodSource("protectedRings")
  void collectivesGiveTheUnprotectedRingsResultsBitForBit(RingProtection protection, LinkTransport transport, int n,
      WireCodec codec) throws Exception {
    RingConfig plain = RingHarness.config("protected-" + protection + "-" + n, transport).withCodec(codec)
        .withSegmentBytes(4096); // many frames per collective, ragged tails
    List<List<ByteBuffer>> expected = RingHarness.run(n, plain, RingProtectionTest::collectives);
    List<List<ByteBuffer>> got = RingHarness.run(n, plain.withProtection(protection), RingProtectionTest::collectives);
    for (int r = 0; r < n; r++) {
      for (int k = 0; k < expected.get(r).size(); k++) {
        ByteBuffer want = expected.get(r).get(k);
        ByteBuffer have = got.get(r).get(k);
        for (int i = 0; i < want.capacity(); i++) {
          if (want.get(i) != have.get(i)) {
            throw new AssertionError("rank " + r + ", collective " + k + ": byte " + i + " differs under " + protection);
          }
        }
      }
    }
  }

  /** An all-reduce of 10,007 floats (several frames per chunk), a second one of 1, and a broadcast. */
  private static List<ByteBuffer> collectives(RingCommunicator ring) throws RingException {
    ByteBuffer big = RingCommunicatorTest.filled(ring.rank(), 10_007);
    ring.allReduce(big, ReduceOp.AVERAGE);
    ByteBuffer one = RingCommunicatorTest.filled(ring.rank(), 1);
    ring.allReduce(one, ReduceOp.SUM);
    ByteBuffer cast = RingCommunicatorTest.filled(ring.rank(), 3_001);
    ring.broadcast(cast, 0, 3_001, ring.worldSize() - 1);
    return List.of(big, one, cast);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = RingProtection.class, names = {"INTEGRITY", "ENCRYPTION"})
  void aPayloadByteFlippedInFlightFailsTheAllReduceNamingTheLink(RingProtection protection) throws Exception {
    RingConfig config = RingHarness.config("tamper-" + protection, LinkTransport.TCP).withProtection(protection);
    try (TamperingRelay relay = new TamperingRelay(payloadByteOfFirstFrame(config, 22), (byte) 0x01)) {
      RingException e = assertThrows(RingException.class, () -> allReduceThrough(relay, config));
      assertTrue(relay.flipped(), "the relay flipped its byte");
      assertEquals(RingException.Operation.INTEGRITY, e.operation(), e.getMessage());
      assertEquals(1, e.peer().rank(), "rank 0 names its left neighbour, rank 1: " + e.getMessage());
      assertTrue(e.getMessage().contains("from the link rank 1 (127.0.0.1:") && e.getMessage().contains("-> this rank")
          && e.getMessage().contains("altered in transit") && e.getMessage().contains("link keys disagree")
          && e.getMessage().contains(protection.name()), e.getMessage());
    }
  }

  @Test
  void aHeaderByteFlippedInFlightUnderIntegrityFailsSayingItWasMostLikelyAltered() throws Exception {
    RingConfig config = RingHarness.config("tamper-header", LinkTransport.TCP).withProtection(RingProtection.INTEGRITY);
    try (TamperingRelay relay = new TamperingRelay(payloadByteOfFirstFrame(config, -3), (byte) 0x01)) {
      RingException e = assertThrows(RingException.class, () -> allReduceThrough(relay, config));
      assertEquals(1, e.peer().rank(), e.getMessage());
      assertTrue(e.getMessage().contains("most likely altered in transit on the link from rank 1"), e.getMessage());
    }
  }

  @Test
  void withoutProtectionAFlippedByteSilentlyChangesTheSumOnEveryRankAlike() throws Exception {
    RingConfig config = RingHarness.config("tamper-none", LinkTransport.TCP);
    try (TamperingRelay relay = new TamperingRelay(payloadByteOfFirstFrame(config, 22), (byte) 0x01)) {
      List<ByteBuffer> results = allReduceThrough(relay, config);
      assertTrue(relay.flipped(), "the relay flipped its byte");
      int wrong = 0;
      for (int i = 0; i < COUNT; i++) {
        float exact = RingCommunicatorTest.input(0, i) + RingCommunicatorTest.input(1, i);
        float r0 = results.get(0).getFloat(i * 4);
        assertEquals(Float.floatToRawIntBits(r0), Float.floatToRawIntBits(results.get(1).getFloat(i * 4)),
            "both ranks hold the same value at index " + i + ", so a replica check sees nothing");
        if (Float.floatToRawIntBits(r0) != Float.floatToRawIntBits(exact)) {
          wrong++;
        }
      }
      assertEquals(1, wrong, "exactly the flipped element is wrong, on every rank, and nothing failed");
    }
  }

  @Test
  void ranksThatDisagreeOnTheProtectionRefuseEachOtherInTheHandshake() throws Exception {
    RingConfig plain = RingHarness.config("mixed-protection");
    RingException e = assertThrows(RingException.class, () -> RingHarness.run(2,
        rank -> rank == 0 ? plain.withProtection(RingProtection.INTEGRITY) : plain, ring -> null));
    // Each rank's connector reads the other's HELLO and fails at once, naming both settings; when
    // one of them has already hung up, the other's connector is turned away and says the ranks
    // disagree on a setting, ringProtection among the likely ones (as for a wrong secret). On a
    // loaded machine the accepting side's deadline can surface first: it names the dropped
    // connection and the same mismatch (as RingFaultTest accepts for a wrong secret).
    assertTrue(e.operation() == RingException.Operation.HANDSHAKE || e.operation() == RingException.Operation.ACCEPT,
        e.getMessage());
    assertTrue(e.getMessage().contains("protects frames with") && e.getMessage().contains("same ringProtection")
        || e.getMessage().contains("ended its own set-up") && e.getMessage().contains("ringProtection settings"),
        e.getMessage());
  }

  @Test
  void everySetUpDerivesNewLinkKeys() {
    RingConfig config = RingHarness.config("keys").withProtection(RingProtection.INTEGRITY);
    Handshake connector = new Handshake(config, 0, 2);
    Handshake acceptor = new Handshake(config, 1, 2);
    byte[] helloC = connector.hello();
    byte[] helloA = acceptor.hello();
    byte[] key = FrameGuard.linkKey(config, helloC, helloA);
    assertArrayEquals(key, FrameGuard.linkKey(config, helloC, helloA), "both ends derive the same key");
    assertNotEquals(ByteBuffer.wrap(key), ByteBuffer.wrap(FrameGuard.linkKey(config, connector.hello(), helloA)),
        "a fresh nonce gives a fresh key");
    RingConfig otherSecret = new RingConfig(config.runId(), RingSecret.generate(), config.bindHost(), config.port(),
        config.connectTimeout(), config.handshakeTimeout(), config.ioTimeout(), config.segmentBytes(),
        config.socketBufferBytes(), config.codec(), config.transport(), config.socketDir(),
        config.maxPendingHandshakes(), config.protection());
    assertNotEquals(ByteBuffer.wrap(key), ByteBuffer.wrap(FrameGuard.linkKey(otherSecret, helloC, helloA)),
        "the key depends on the run secret, which never crosses the wire");
  }

  /**
   * The offset, in rank 1's stream to rank 0, of byte {@code k} of its first frame's payload (negative:
   * inside the header): after rank 1's HELLO and MAC, and the 20-byte frame header.
   */
  private static long payloadByteOfFirstFrame(RingConfig config, int k) {
    return new Handshake(config, 1, 2).hello().length + Handshake.MAC_BYTES + FrameHeader.BYTES + k;
  }

  /** Two ranks sum {@link RingCommunicatorTest#input}; rank 1 reaches rank 0 through {@code relay}. */
  private static List<ByteBuffer> allReduceThrough(TamperingRelay relay, RingConfig config) throws Exception {
    java.net.InetSocketAddress via = relay.address();
    return RingHarness.runHooked(2, r -> config, (rank, all) -> {
      if (rank == 0) {
        relay.start(all.get(0).tcp());
      }
      List<RingAddress> throughRelay = new ArrayList<>(all);
      throughRelay.set(0, RingAddress.tcpOnly(via));
      return throughRelay;
    }, ring -> {
      ByteBuffer buf = RingCommunicatorTest.filled(ring.rank(), COUNT);
      ring.allReduce(buf, ReduceOp.SUM);
      return buf;
    });
  }
}
