// The all-reduce's two halves on their own, over real sockets with every rank a
// thread: reduce-scatter then all-gather equals the all-reduce bit for bit (world
// sizes 1 to 4, odd lengths, a region inside a larger buffer, float32 and bf16 on
// the reduce half), the owned chunk is final after the reduce-scatter, and the
// all-gather carries float32 exactly whatever the codec. The all-reduce's own
// accuracy is RingCommunicatorTest's subject, not this file's.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RingAllReduceTest {

  /** Floats before and after the region, which no collective may touch. */
  private static final int MARGIN = 5;

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (WireCodec codec : WireCodec.values()) {
      for (ReduceOp op : ReduceOp.values()) {
        for (int n : new int[] {1, 2, 3, 4}) {
          for (int count : new int[] {0, 1, n + 1, 13, 1021, 100_003}) {
            cases.add(Arguments.of(n, count, codec, op));
          }
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "world {0}, {1} floats, {2}, {3}")
  @MethodSource("cases")
  void reduceScatterThenAllGatherEqualsAllReduceBitwise(int n, int count, WireCodec codec, ReduceOp op)
      throws Exception {
    RingConfig config = RingHarness.config("halves-" + n + "-" + count + "-" + codec + "-" + op)
        .withSegmentBytes(4096).withCodec(codec);
    int total = MARGIN + count + MARGIN;
    List<ByteBuffer[]> results = RingHarness.run(n, config, ring -> {
      ByteBuffer whole = RingCommunicatorTest.filled(ring.rank(), total);
      ring.allReduce(whole, MARGIN, count, op);
      ByteBuffer halves = RingCommunicatorTest.filled(ring.rank(), total);
      ring.reduceScatterAsync(halves, MARGIN, count, op).get();
      RingCommunicator.Range owned = ring.ownedRange(count);
      for (int i = MARGIN + owned.start(); i < MARGIN + owned.end(); i++) {
        if (halves.getInt(i * 4) != whole.getInt(i * 4)) {
          fail("rank " + ring.rank() + ", owned element " + i + " after the reduce-scatter: "
              + halves.getFloat(i * 4) + ", the all-reduce gives " + whole.getFloat(i * 4));
        }
      }
      ring.allGatherAsync(halves, MARGIN, count).get();
      return new ByteBuffer[] {whole, halves};
    });
    for (int r = 0; r < n; r++) {
      ByteBuffer whole = results.get(r)[0];
      ByteBuffer halves = results.get(r)[1];
      for (int i = 0; i < total; i++) {
        if (halves.getInt(i * 4) != whole.getInt(i * 4)) {
          fail("rank " + r + ", element " + i + ": halves give " + halves.getFloat(i * 4) + ", the all-reduce "
              + whole.getFloat(i * 4));
        }
      }
    }
    for (int r = 1; r < n; r++) {
      for (int i = MARGIN; i < MARGIN + count; i++) {
        assertEquals(results.get(0)[1].getInt(i * 4), results.get(r)[1].getInt(i * 4), "rank " + r + " vs rank 0, "
            + "element " + i);
      }
    }
  }

  @Test
  void allGatherCarriesFloat32ExactlyUnderTheBf16Codec() throws Exception {
    int n = 3;
    int count = 10_007;
    RingConfig config = RingHarness.config("gather-exact").withSegmentBytes(4096).withCodec(WireCodec.BF16);
    List<ByteBuffer> results = RingHarness.run(n, config, ring -> {
      ByteBuffer buf = ByteBuffer.allocateDirect(count * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      RingCommunicator.Range owned = ring.ownedRange(count);
      for (int i = owned.start(); i < owned.end(); i++) {
        buf.putFloat(i * 4, RingCommunicatorTest.input(7, i)); // full float32 mantissas, not bf16
      }
      ring.allGatherAsync(buf, 0, count).get();
      return buf;
    });
    for (int r = 0; r < n; r++) {
      for (int i = 0; i < count; i++) {
        assertEquals(Float.floatToRawIntBits(RingCommunicatorTest.input(7, i)),
            Float.floatToRawIntBits(results.get(r).getFloat(i * 4)), "rank " + r + ", element " + i);
      }
    }
  }

  @Test
  void ownedRangesPartitionTheRegionAndRankRownsChunkRPlusOne() {
    for (int n = 1; n <= 8; n++) {
      for (int count : new int[] {0, 1, 7, 13, 1000}) {
        int covered = 0;
        for (int r = 0; r < n; r++) {
          RingCommunicator.Range owned = RingCommunicator.ownedRange(r, n, count);
          int chunk = (r + 1) % n;
          int base = count / n;
          int extra = count % n;
          assertEquals(chunk * base + Math.min(chunk, extra), owned.start(), "n=" + n + " r=" + r);
          assertEquals(base + (chunk < extra ? 1 : 0), owned.length(), "n=" + n + " r=" + r);
          covered += owned.length();
        }
        assertEquals(count, covered, "n=" + n + ", count=" + count);
      }
    }
    assertEquals(new RingCommunicator.Range(0, 9), RingCommunicator.ownedRange(0, 1, 9));
    assertThrows(IllegalArgumentException.class, () -> RingCommunicator.ownedRange(2, 2, 9));
  }
}
