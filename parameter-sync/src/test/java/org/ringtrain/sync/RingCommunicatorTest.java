// Correctness of the ring collectives over real sockets, every rank a thread,
// on both transports (Unix domain sockets, as AUTO picks on one host, and
// loopback TCP): all-reduce against a double-precision reference for many world sizes
// and awkward lengths, bitwise equality across ranks, broadcast, barrier,
// float[] and bucketed asynchronous use.
// Why over 300 lines: the correctness matrix (world sizes x lengths x transports) shares one harness.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RingCommunicatorTest {

  /** A value only (rank, i) determines, in [-1, 1), so any rank can recompute every other rank's input. */
  static float input(int rank, int i) {
    long h = (rank + 1) * 0x9E3779B97F4A7C15L ^ (i * 0xC2B2AE3D27D4EB4FL);
    h ^= h >>> 31;
    h *= 0xBF58476D1CE4E5B9L;
    h ^= h >>> 29;
    return ((h >>> 40) / (float) (1L << 24)) * 2f - 1f;
  }

  /** The exact sum over {@code n} ranks of element {@code i}, in double precision. */
  static double exactSum(int n, int i) {
    double sum = 0;
    for (int r = 0; r < n; r++) {
      sum += input(r, i);
    }
    return sum;
  }

  /** Sum of |x| over {@code n} ranks of element {@code i}: the scale of every error bound. */
  static double magnitude(int n, int i) {
    double sum = 0;
    for (int r = 0; r < n; r++) {
      sum += Math.abs(input(r, i));
    }
    return sum;
  }

  static ByteBuffer filled(int rank, int count) {
    ByteBuffer buf = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      buf.putFloat(i * 4, input(rank, i));
    }
    return buf;
  }

  static Stream<Arguments> worldSizesAndLengths() {
    List<Arguments> cases = new ArrayList<>();
    for (LinkTransport transport : LinkTransport.values()) {
      for (int n : new int[] {1, 2, 3, 4, 7}) {
        for (int count : new int[] {0, 1, Math.max(1, n - 1), 13, 1021, 262_147}) {
          cases.add(Arguments.of(n, count, 4096, transport)); // small segments: many per chunk, ragged tails
        }
        cases.add(Arguments.of(n, 1_000_003, RingConfig.DEFAULT_SEGMENT_BYTES, transport));
      }
      cases.add(Arguments.of(2, 10_000_019, RingConfig.DEFAULT_SEGMENT_BYTES, transport));
      cases.add(Arguments.of(4, 10_000_019, RingConfig.DEFAULT_SEGMENT_BYTES, transport));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "world {0}, {1} floats, {2}-byte segments, {3}")
  @MethodSource("worldSizesAndLengths")
  void allReduceSumMatchesDoubleReferenceAndIsBitwiseEqualOnEveryRank(int n, int count, int segmentBytes,
      LinkTransport transport) throws Exception {
    RingConfig config = RingHarness.config("sum-" + n + "-" + count, transport).withSegmentBytes(segmentBytes);
    List<ByteBuffer> results = RingHarness.run(n, config, ring -> {
      ByteBuffer buf = filled(ring.rank(), count);
      ring.allReduce(buf, ReduceOp.SUM);
      return buf;
    });
    for (int i = 0; i < count; i++) {
      double exact = exactSum(n, i);
      double magnitude = magnitude(n, i);
      float got = results.get(0).getFloat(i * 4);
      // n-1 float32 additions, each off by at most half an ulp of a partial sum <= magnitude.
      double bound = n * Math.ulp((float) magnitude) + 1e-30;
      if (Math.abs(got - exact) > bound) {
        fail("index " + i + ": got " + got + ", exact " + exact + ", bound " + bound);
      }
    }
    assertBitwiseEqual(results, count);
  }

  @Test
  void rankFilledBuffersSumToTheClosedForm() throws Exception {
    int n = 5;
    int count = 77_777;
    List<ByteBuffer> results = RingHarness.run(n, RingHarness.config("closed-form").withSegmentBytes(8192), ring -> {
      ByteBuffer buf = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < count; i++) {
        buf.putFloat(i * 4, ring.rank());
      }
      ring.allReduce(buf, ReduceOp.SUM);
      return buf;
    });
    float expected = n * (n - 1) / 2f;
    for (int r = 0; r < n; r++) {
      for (int i = 0; i < count; i++) {
        float got = results.get(r).getFloat(i * 4);
        if (got != expected) {
          fail("rank " + r + " index " + i + ": expected " + expected + ", got " + got);
        }
      }
    }
  }

  @Test
  void averageDividesByWorldSizeAndFloatArraysWork() throws Exception {
    int n = 4;
    List<float[]> results = RingHarness.run(n, RingHarness.config("avg"), ring -> {
      float[] values = new float[1000];
      for (int i = 0; i < values.length; i++) {
        values[i] = ring.rank() * 1000 + i;
      }
      ring.allReduce(values, ReduceOp.AVERAGE);
      return values;
    });
    for (int i = 0; i < 1000; i++) {
      assertEquals(1500f + i, results.get(0)[i], 1e-3f, "index " + i);
    }
    for (float[] r : results) {
      assertArrayEquals(results.get(0), r);
    }
  }

  @Test
  void allReduceOfASubRangeLeavesTheRestOfTheBufferAlone() throws Exception {
    List<ByteBuffer> results = RingHarness.run(3, RingHarness.config("range").withSegmentBytes(4096), ring -> {
      ByteBuffer buf = ByteBuffer.allocateDirect(10_000 * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 10_000; i++) {
        buf.putFloat(i * 4, 1f);
      }
      buf.position(40).limit(400); // position and limit are ignored and preserved
      ring.allReduce(buf, 1234, 5000, ReduceOp.SUM);
      assertEquals(40, buf.position());
      assertEquals(400, buf.limit());
      return buf;
    });
    for (int i = 0; i < 10_000; i++) {
      float expected = i >= 1234 && i < 6234 ? 3f : 1f;
      assertEquals(expected, results.get(2).duplicate().order(ByteOrder.LITTLE_ENDIAN).clear().getFloat(i * 4), "index " + i);
    }
  }

  @ParameterizedTest(name = "world {0}, root {1}, {2}")
  @MethodSource("broadcastCases")
  void broadcastCopiesTheRootsBytesToEveryRank(int n, int root, LinkTransport transport) throws Exception {
    int count = 300_001;
    RingConfig config = RingHarness.config("bcast", transport).withSegmentBytes(65536);
    List<ByteBuffer> results = RingHarness.run(n, config, ring -> {
      ByteBuffer buf = filled(ring.rank(), count);
      ring.broadcast(buf, 0, count, root);
      return buf;
    });
    ByteBuffer expected = filled(root, count);
    for (ByteBuffer got : results) {
      assertEquals(expected, got.clear());
    }
  }

  static Stream<Arguments> broadcastCases() {
    return Stream.of(LinkTransport.values()).flatMap(t -> Stream.of(Arguments.of(1, 0, t), Arguments.of(2, 0, t),
        Arguments.of(2, 1, t), Arguments.of(4, 0, t), Arguments.of(4, 3, t), Arguments.of(7, 2, t)));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void barrierHoldsEveryRankUntilTheLastArrives(LinkTransport transport) throws Exception {
    int n = 4;
    long[] arrived = new long[n];
    List<Long> left = RingHarness.run(n, RingHarness.config("barrier", transport), ring -> {
      Thread.sleep(100L * ring.rank());
      arrived[ring.rank()] = System.nanoTime();
      ring.barrier();
      return System.nanoTime();
    });
    long lastArrival = 0;
    for (long a : arrived) {
      lastArrival = Math.max(lastArrival, a);
    }
    for (int r = 0; r < n; r++) {
      assertTrue(left.get(r) >= lastArrival, "rank " + r + " left the barrier before the last rank arrived");
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void bucketsCompleteInSubmissionOrderWithCorrectSums(LinkTransport transport) throws Exception {
    int n = 3;
    int[] sizes = new int[220];
    for (int b = 0; b < sizes.length; b++) {
      sizes[b] = b % 50 == 0 ? 700_000 : (b * 7919) % 3000; // many small (some empty), a few large
    }
    int total = 0;
    for (int s : sizes) {
      total += s;
    }
    int count = total;
    RingConfig config = RingHarness.config("buckets", transport).withSegmentBytes(65536);
    List<Object[]> results = RingHarness.run(n, config, ring -> {
      ByteBuffer flat = filled(ring.rank(), count);
      List<Integer> completed = Collections.synchronizedList(new ArrayList<>());
      List<CompletableFuture<Void>> futures = new ArrayList<>();
      // Submit from the end of the buffer, as backward finishes layers.
      int end = count;
      for (int b = 0; b < sizes.length; b++) {
        int bucket = b;
        end -= sizes[b];
        futures.add(ring.allReduceAsync(flat, end, sizes[b], ReduceOp.SUM).thenRun(() -> completed.add(bucket)));
      }
      CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
      return new Object[] {flat, new ArrayList<>(completed)};
    });
    List<Integer> inOrder = new ArrayList<>();
    for (int b = 0; b < sizes.length; b++) {
      inOrder.add(b);
    }
    for (Object[] r : results) {
      assertEquals(inOrder, r[1], "bucket completion order");
    }
    ByteBuffer flat = (ByteBuffer) results.get(0)[0];
    for (int i = 0; i < count; i += 7) {
      assertEquals(exactSum(n, i), flat.getFloat(i * 4), 1e-5, "index " + i);
    }
    List<ByteBuffer> flats = new ArrayList<>();
    results.forEach(r -> flats.add((ByteBuffer) r[0]));
    assertBitwiseEqual(flats, count);
  }

  @ParameterizedTest(name = "world {0}, {1}")
  @MethodSource("bf16Sizes")
  void bf16WireStaysWithinItsDocumentedBoundAndRanksAgreeBitwise(int n, LinkTransport transport) throws Exception {
    int count = 200_003;
    RingConfig config = RingHarness.config("bf16-" + n, transport).withCodec(WireCodec.BF16)
        .withSegmentBytes(16384);
    List<ByteBuffer> results = RingHarness.run(n, config, ring -> {
      ByteBuffer buf = filled(ring.rank(), count);
      ring.allReduce(buf, ReduceOp.SUM);
      return buf;
    });
    double worstRatio = 0;
    for (int i = 0; i < count; i++) {
      double exact = exactSum(n, i);
      double magnitude = magnitude(n, i);
      double bound = n * Math.pow(2, -8) * magnitude; // WireCodec.BF16's documented bound
      double err = Math.abs(results.get(0).getFloat(i * 4) - exact);
      if (err > bound) {
        fail("index " + i + ": error " + err + " exceeds the bf16 bound " + bound);
      }
      worstRatio = Math.max(worstRatio, err / (magnitude + 1e-30));
    }
    assertTrue(worstRatio > 0, "bf16 should lose some precision; is the codec applied?");
    assertBitwiseEqual(results, count);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void floatArraysStayExactFloat32UnderTheBf16Codec(LinkTransport transport) throws Exception {
    RingConfig config = RingHarness.config("bf16-array-" + transport, transport).withCodec(WireCodec.BF16);
    List<float[]> results = RingHarness.run(3, config, ring -> {
      // 16-bit limbs of a hash and a loss: bf16 would keep 8 significant bits of each.
      float[] values = {0xFFFF, 0x1234 + ring.rank(), 1 + ring.rank() / 1024f};
      ring.allReduce(values, ReduceOp.SUM);
      return values;
    });
    for (float[] r : results) {
      assertArrayEquals(new float[] {3 * 0xFFFF, 3 * 0x1234 + 3, 3 + 3 / 1024f}, r, "control values are summed exactly");
    }
  }

  static Stream<Arguments> bf16Sizes() {
    return Stream.of(LinkTransport.values()).flatMap(t -> Stream.of(2, 3, 4).map(n -> Arguments.of(n, t)));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LinkTransport.class)
  void closeLeavesNoSocketsSocketFilesOrThreadsBehind(LinkTransport transport) throws Exception {
    java.nio.file.Path fds = java.nio.file.Path.of("/proc/self/fd");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(fds), "needs Linux /proc");
    RingHarness.run(2, RingHarness.config("leaks-warm-up", transport), ring -> null); // JDK one-time resources
    long before = openSockets(fds);
    List<String> dirsBefore = RingHarness.socketDirectoriesLeft();
    for (int round = 0; round < 3; round++) {
      RingHarness.run(4, RingHarness.config("leaks-" + round, transport), ring -> {
        ring.allReduce(new float[1000], ReduceOp.SUM);
        return null;
      });
    }
    assertTrue(RingHarness.ringThreadsAfter(java.time.Duration.ofSeconds(10)).isEmpty(), "ring threads left");
    assertEquals(before, openSockets(fds), "open sockets before and after a closed ring");
    assertEquals(List.of(), dirsBefore, "socket directories left by earlier tests");
    assertEquals(List.of(), RingHarness.socketDirectoriesLeft(), "socket directories left after a closed ring");
  }

  private static long openSockets(java.nio.file.Path fds) throws java.io.IOException {
    try (Stream<java.nio.file.Path> all = java.nio.file.Files.list(fds)) {
      return all.filter(p -> {
        try {
          return java.nio.file.Files.readSymbolicLink(p).toString().startsWith("socket:");
        } catch (java.io.IOException e) {
          return false; // closed while listing
        }
      }).count();
    }
  }

  @Test
  void badArgumentsAreRejectedWithAHint() throws Exception {
    RingHarness.run(1, RingHarness.config("args"), ring -> {
      IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
          () -> ring.allReduce(ByteBuffer.allocate(16), ReduceOp.SUM));
      assertTrue(heap.getMessage().contains("heap buffer"), heap.getMessage());
      IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
          () -> ring.allReduce(ByteBuffer.allocateDirect(16), 2, 3, ReduceOp.SUM));
      assertTrue(range.getMessage().contains("does not fit"), range.getMessage());
      assertThrows(IllegalArgumentException.class, () -> ring.broadcast(new float[1], 1));
      return null;
    });
  }

  @Test
  void configRejectsInvalidValuesNamingThem() {
    IllegalArgumentException seg = assertThrows(IllegalArgumentException.class,
        () -> RingHarness.config("x").withSegmentBytes(1000));
    assertTrue(seg.getMessage().contains("segmentBytes") && seg.getMessage().contains("1000"), seg.getMessage());
    IllegalArgumentException secret = assertThrows(IllegalArgumentException.class,
        () -> RingSecret.of(new byte[4]));
    assertTrue(secret.getMessage().contains("at least 16"), secret.getMessage());
    assertEquals("RingSecret[redacted]", RingHarness.SECRET.toString());
    assertTrue(RingHarness.config("x").toString().contains("RingSecret[redacted]"));
    IllegalArgumentException dir = assertThrows(IllegalArgumentException.class,
        () -> RingHarness.config("x").withSocketDir("relative/dir"));
    assertTrue(dir.getMessage().contains("socketDir") && dir.getMessage().contains("relative/dir"), dir.getMessage());
    IllegalArgumentException transport = assertThrows(IllegalArgumentException.class,
        () -> RingHarness.config("x").withTransport(null));
    assertTrue(transport.getMessage().contains("transport must be AUTO or TCP"), transport.getMessage());
    assertEquals(LinkTransport.AUTO, RingConfig.defaults("x", RingHarness.SECRET).transport());
    for (int bad : new int[] {0, RingConfig.MAX_PENDING_HANDSHAKES + 1}) {
      IllegalArgumentException pending = assertThrows(IllegalArgumentException.class,
          () -> RingHarness.config("x").withMaxPendingHandshakes(bad));
      assertTrue(pending.getMessage().contains("maxPendingHandshakes must be in [1, 1024], but found " + bad),
          pending.getMessage());
    }
    assertEquals(32, RingConfig.defaults("x", RingHarness.SECRET).maxPendingHandshakes());
  }

  static void assertBitwiseEqual(List<ByteBuffer> results, int count) {
    ByteBuffer first = results.get(0);
    for (int r = 1; r < results.size(); r++) {
      ByteBuffer other = results.get(r);
      for (int i = 0; i < count; i++) {
        int a = first.getInt(i * 4);
        int b = other.getInt(i * 4);
        if (a != b) {
          fail("rank " + r + " differs from rank 0 at index " + i + ": " + Float.intBitsToFloat(b) + " vs "
              + Float.intBitsToFloat(a));
        }
      }
    }
  }
}
