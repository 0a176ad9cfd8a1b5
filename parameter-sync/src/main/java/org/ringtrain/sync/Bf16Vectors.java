// The bf16 wire conversions of Bf16, with the Vector API (jdk.incubator.vector):
// the scalar loops run at a few GB/s, slower than the wire they feed, which made
// the BF16 codec slower than FP32 (docs/benchmarks.md). Bit-for-bit the same
// results as the scalar code, tails included (they run the scalar code). Only
// Bf16 calls this class, and only when the JVM was started with
// --add-modules=jdk.incubator.vector; without it this class is never loaded.
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Vectorised float32 <-> bfloat16 over little-endian direct buffers. */
final class Bf16Vectors {
  // Species must be static final constants: the JIT only intrinsifies vector code whose shape it
  // can see as a constant (non-final species ran ~10x slower in the notes' probe).
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  /** As many short lanes as {@link #INTS} has int lanes, in half the bits. */
  private static final VectorSpecies<Short> SHORTS =
      VectorSpecies.of(short.class, VectorShape.forBitSize(INTS.vectorBitSize() / 2));
  private static final int LANES = INTS.length();
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

  private Bf16Vectors() {
  }

  /** Whether the vector shapes line up on this CPU (int and float lanes equal, a half-width short shape). */
  static boolean usable() {
    return FLOATS.length() == LANES && SHORTS.length() == LANES && LANES >= 4;
  }

  /** As {@link Bf16#encode}. */
  static void encode(ByteBuffer src, int srcOff, ByteBuffer dst, int count) {
    int i = 0;
    for (int bound = INTS.loopBound(count); i < bound; i += LANES) {
      IntVector bits = IntVector.fromByteBuffer(INTS, src, srcOff + i * 4, LE);
      IntVector high = bits.lanewise(VectorOperators.LSHR, 16);
      // Round to nearest even: add 0x7FFF plus the lowest kept bit, then keep the top half.
      IntVector rounded = bits.add(high.and(1).add(0x7FFF)).lanewise(VectorOperators.LSHR, 16);
      VectorMask<Integer> nan = bits.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
      IntVector out = rounded.blend(high.or(0x0040), nan); // NaN stays a quiet NaN, sign kept
      ((ShortVector) out.convertShape(VectorOperators.I2S, SHORTS, 0)).intoByteBuffer(dst, i * 2, LE);
    }
    for (; i < count; i++) {
      dst.putShort(i * 2, Bf16.fromFloat(src.getFloat(srcOff + i * 4)));
    }
  }

  /** As {@link Bf16#decode}. */
  static void decode(ByteBuffer src, ByteBuffer dst, int dstOff, int count) {
    int i = 0;
    for (int bound = INTS.loopBound(count); i < bound; i += LANES) {
      widen(src, i).intoByteBuffer(dst, dstOff + i * 4, LE);
    }
    for (; i < count; i++) {
      dst.putFloat(dstOff + i * 4, Bf16.toFloat(src.getShort(i * 2)));
    }
  }

  /** As {@link Bf16#decodeAdd}. */
  static void decodeAdd(ByteBuffer src, ByteBuffer dst, int dstOff, int count) {
    int i = 0;
    for (int bound = INTS.loopBound(count); i < bound; i += LANES) {
      int at = dstOff + i * 4;
      FloatVector sum = FloatVector.fromByteBuffer(FLOATS, dst, at, LE)
          .add(widen(src, i).reinterpretAsFloats());
      sum.intoByteBuffer(dst, at, LE);
    }
    for (; i < count; i++) {
      int at = dstOff + i * 4;
      dst.putFloat(at, dst.getFloat(at) + Bf16.toFloat(src.getShort(i * 2)));
    }
  }

  /** As {@link Bf16#roundInPlace}. */
  static void roundInPlace(ByteBuffer buf, int off, int count) {
    int i = 0;
    for (int bound = INTS.loopBound(count); i < bound; i += LANES) {
      int at = off + i * 4;
      IntVector bits = IntVector.fromByteBuffer(INTS, buf, at, LE);
      IntVector high = bits.lanewise(VectorOperators.LSHR, 16);
      IntVector rounded = bits.add(high.and(1).add(0x7FFF)).and(0xFFFF0000);
      VectorMask<Integer> nan = bits.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
      rounded.blend(high.or(0x0040).lanewise(VectorOperators.LSHL, 16), nan).intoByteBuffer(buf, at, LE);
    }
    for (; i < count; i++) {
      int at = off + i * 4;
      buf.putFloat(at, Bf16.round(buf.getFloat(at)));
    }
  }

  /** bf16 values {@code i .. i + LANES} of {@code src} as float32 bit patterns. */
  private static IntVector widen(ByteBuffer src, int i) {
    ShortVector halves = ShortVector.fromByteBuffer(SHORTS, src, i * 2, LE);
    // S2I sign-extends; the shift pushes the extension out of the int, leaving bf16 << 16 exactly.
    return ((IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0)).lanewise(VectorOperators.LSHL, 16);
  }
}
