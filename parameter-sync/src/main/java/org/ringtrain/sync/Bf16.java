// float32 <-> bfloat16 over direct buffers, for the BF16 wire codec. The
// buffer loops go to Bf16Vectors (Vector API) when the JVM has the
// jdk.incubator.vector module (--add-modules=jdk.incubator.vector, as Spark's
// Java 17 flags in the parent pom give it) and to the plain indexed loops here
// otherwise; both give the same bits. See docs/benchmarks.md for the cost
// against FP32.
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** bfloat16 conversion: the upper 16 bits of a float32, rounded to nearest even. */
final class Bf16 {
  private static final Logger LOG = LoggerFactory.getLogger(Bf16.class);
  /** Whether the buffer loops use the Vector API; decided once per JVM. */
  static final boolean VECTORIZED = vectorApiUsable();

  private Bf16() {
  }

  private static boolean vectorApiUsable() {
    if (Boolean.getBoolean("ringtrain.bf16.scalar")
        || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      LOG.debug("bf16 wire conversion: scalar (start the JVM with --add-modules=jdk.incubator.vector to "
          + "vectorise it)");
      return false;
    }
    try {
      boolean usable = Bf16Vectors.usable();
      LOG.debug("bf16 wire conversion: {}", usable ? "Vector API" : "scalar (vector shapes do not line up)");
      return usable;
    } catch (LinkageError e) {
      LOG.debug("bf16 wire conversion: scalar ({})", e.toString());
      return false;
    }
  }

  /** The bf16 bits nearest to {@code f} (ties to even); NaN stays NaN. */
  static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7FFFFFFF) > 0x7F800000) {
      return (short) ((bits >>> 16) | 0x0040); // quiet NaN, sign kept
    }
    int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  /** The float32 value of bf16 bits (exact). */
  static float toFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
  }

  /** {@code f} rounded to the nearest bf16 value, as a float32. */
  static float round(float f) {
    return toFloat(fromFloat(f));
  }

  /** Encodes {@code count} floats at byte offset {@code srcOff} of {@code src} into {@code dst} from 0. */
  static void encode(ByteBuffer src, int srcOff, ByteBuffer dst, int count) {
    if (VECTORIZED) {
      Bf16Vectors.encode(src, srcOff, dst, count);
    } else {
      encodeScalar(src, srcOff, dst, count);
    }
  }

  /** The scalar loop of {@link #encode}; also the reference the vector code is tested against. */
  static void encodeScalar(ByteBuffer src, int srcOff, ByteBuffer dst, int count) {
    for (int i = 0; i < count; i++) {
      dst.putShort(i * 2, fromFloat(src.getFloat(srcOff + i * 4)));
    }
  }

  /** Decodes {@code count} bf16 values of {@code src} into floats at byte offset {@code dstOff} of {@code dst}. */
  static void decode(ByteBuffer src, ByteBuffer dst, int dstOff, int count) {
    if (VECTORIZED) {
      Bf16Vectors.decode(src, dst, dstOff, count);
    } else {
      decodeScalar(src, dst, dstOff, count);
    }
  }

  /** The scalar loop of {@link #decode}; also the reference the vector code is tested against. */
  static void decodeScalar(ByteBuffer src, ByteBuffer dst, int dstOff, int count) {
    for (int i = 0; i < count; i++) {
      dst.putFloat(dstOff + i * 4, toFloat(src.getShort(i * 2)));
    }
  }

  /** Adds decoded bf16 values of {@code src} into the floats at byte offset {@code dstOff} of {@code dst}. */
  static void decodeAdd(ByteBuffer src, ByteBuffer dst, int dstOff, int count) {
    if (VECTORIZED) {
      Bf16Vectors.decodeAdd(src, dst, dstOff, count);
    } else {
      decodeAddScalar(src, dst, dstOff, count);
    }
  }

  /** The scalar loop of {@link #decodeAdd}; also the reference the vector code is tested against. */
  static void decodeAddScalar(ByteBuffer src, ByteBuffer dst, int dstOff, int count) {
    for (int i = 0; i < count; i++) {
      int at = dstOff + i * 4;
      dst.putFloat(at, dst.getFloat(at) + toFloat(src.getShort(i * 2)));
    }
  }

  /** Rounds {@code count} floats at byte offset {@code off} of {@code buf} to bf16 precision in place. */
  static void roundInPlace(ByteBuffer buf, int off, int count) {
    if (VECTORIZED) {
      Bf16Vectors.roundInPlace(buf, off, count);
    } else {
      roundInPlaceScalar(buf, off, count);
    }
  }

  /** The scalar loop of {@link #roundInPlace}; also the reference the vector code is tested against. */
  static void roundInPlaceScalar(ByteBuffer buf, int off, int count) {
    for (int i = 0; i < count; i++) {
      int at = off + i * 4;
      buf.putFloat(at, round(buf.getFloat(at)));
    }
  }
}
