// The vectorised bf16 conversions against the scalar reference, bit for bit
// (up to NaN payloads of sums):
// random bit patterns (NaNs, infinities, subnormals included), rounding ties,
// lengths that leave tails, and offsets into the buffers.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Bf16Test {

  @Test
  void theVectorPathIsOnWhereTheJvmHasTheVectorModule() {
    // Surefire starts the test JVM with Spark's flags, which add jdk.incubator.vector.
    assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "test JVM lacks the module");
    assertTrue(Bf16.VECTORIZED, "Bf16 should use the Vector API in this JVM");
  }

  @Test
  void scalarRoundingIsToNearestEvenAndKeepsNaNs() {
    assertEquals(0x3F80, Bf16.fromFloat(1f) & 0xFFFF);
    assertEquals(0x3F80, Bf16.fromFloat(Float.intBitsToFloat(0x3F808000)) & 0xFFFF); // tie, even stays
    assertEquals(0x3F82, Bf16.fromFloat(Float.intBitsToFloat(0x3F818000)) & 0xFFFF); // tie, odd rounds up
    assertEquals(0x7F80, Bf16.fromFloat(Float.MAX_VALUE) & 0xFFFF); // overflows to infinity
    assertTrue(Float.isNaN(Bf16.round(Float.NaN)));
    assertTrue(Float.isNaN(Bf16.toFloat(Bf16.fromFloat(Float.intBitsToFloat(0x7F800001)))), "signalling NaN");
  }

  @ParameterizedTest(name = "{0} values")
  @ValueSource(ints = {0, 1, 3, 7, 8, 15, 16, 17, 63, 1000, 65_537})
  void vectorConversionsMatchTheScalarReferenceBitForBit(int count) {
    int offset = 12; // bytes: the region does not start at a vector boundary
    ByteBuffer floats = randomFloats(offset, count, count);
    // encode
    ByteBuffer vec = direct(count * 2);
    ByteBuffer ref = direct(count * 2);
    Bf16Vectors.encode(floats, offset, vec, count);
    Bf16.encodeScalar(floats, offset, ref, count);
    assertSameBytes(ref, vec, "encode");
    // decode, into an offset region
    ByteBuffer decodedVec = direct(offset + count * 4);
    ByteBuffer decodedRef = direct(offset + count * 4);
    Bf16Vectors.decode(ref, decodedVec, offset, count);
    Bf16.decodeScalar(ref, decodedRef, offset, count);
    assertSameBytes(decodedRef, decodedVec, "decode");
    // decodeAdd onto other random floats
    ByteBuffer sumVec = randomFloats(offset, count, count + 1);
    ByteBuffer sumRef = randomFloats(offset, count, count + 1);
    Bf16Vectors.decodeAdd(ref, sumVec, offset, count);
    Bf16.decodeAddScalar(ref, sumRef, offset, count);
    assertSameFloats(sumRef, sumVec, offset, count, "decodeAdd");
    // roundInPlace
    ByteBuffer roundVec = randomFloats(offset, count, count + 2);
    ByteBuffer roundRef = randomFloats(offset, count, count + 2);
    Bf16Vectors.roundInPlace(roundVec, offset, count);
    Bf16.roundInPlaceScalar(roundRef, offset, count);
    assertSameBytes(roundRef, roundVec, "roundInPlace");
  }

  /** {@code count} floats at byte {@code offset}: random bit patterns, ordinary values and exact ties. */
  private static ByteBuffer randomFloats(int offset, int count, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    ByteBuffer buf = direct(offset + count * 4);
    for (int i = 0; i < count; i++) {
      int bits;
      switch (i % 4) {
        case 0 -> bits = random.nextInt(); // anything: NaNs, infinities, subnormals
        case 1 -> bits = Float.floatToRawIntBits((float) random.nextGaussian());
        case 2 -> bits = (random.nextInt() & 0xFFFF0000) | 0x8000; // exactly halfway between two bf16s
        default -> bits = random.nextInt(8) == 0 ? 0x7FC00000 | random.nextInt(0x3FFFFF) : random.nextInt(0x800000);
      }
      buf.putInt(offset + i * 4, bits);
    }
    return buf;
  }

  private static ByteBuffer direct(int bytes) {
    return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Bitwise equal, except that a NaN sum only has to be a NaN: which operand's payload an add of
   * two NaNs keeps is up to the CPU and the JIT's operand order, in scalar code as well.
   */
  private static void assertSameFloats(ByteBuffer expected, ByteBuffer actual, int offset, int count, String what) {
    for (int i = 0; i < count; i++) {
      int e = expected.getInt(offset + i * 4);
      int a = actual.getInt(offset + i * 4);
      boolean bothNaN = Float.isNaN(Float.intBitsToFloat(e)) && Float.isNaN(Float.intBitsToFloat(a));
      if (e != a && !bothNaN) {
        fail(what + ": float " + i + " differs: scalar 0x" + Integer.toHexString(e) + ", vector 0x"
            + Integer.toHexString(a));
      }
    }
  }

  private static void assertSameBytes(ByteBuffer expected, ByteBuffer actual, String what) {
    for (int i = 0; i < expected.capacity(); i++) {
      if (expected.get(i) != actual.get(i)) {
        fail(what + ": byte " + i + " differs: scalar " + expected.get(i) + ", vector " + actual.get(i));
      }
    }
  }
}
