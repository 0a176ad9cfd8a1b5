/*
 * Lanes: the Vector API species and the load/store helpers every fused kernel uses. Only classes
 * that run behind Fused.AVAILABLE touch it, so a JVM without jdk.incubator.vector never loads it.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Float vectors of the CPU's preferred width over native-order buffers, indexed in floats. */
final class Lanes {

  // Species must be static final constants: the JIT only intrinsifies vector code whose shape it
  // can see as a constant (non-final species ran ~10x slower, docs/benchmarks.md, bf16 codec).
  static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  /** Floats per vector: 16 with AVX-512, 8 with AVX2. */
  static final int N = FLOATS.length();
  static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private Lanes() {
  }

  /** The vector of floats {@code i .. i + N - 1} of {@code b}. */
  static FloatVector load(ByteBuffer b, int i) {
    return FloatVector.fromByteBuffer(FLOATS, b, i * 4, ORDER);
  }

  /** Stores {@code v} at floats {@code i .. i + N - 1} of {@code b}. */
  static void store(FloatVector v, ByteBuffer b, int i) {
    v.intoByteBuffer(b, i * 4, ORDER);
  }

  /** The largest multiple of {@link #N} not above {@code count}: where the scalar tail starts. */
  static int bound(int count) {
    return FLOATS.loopBound(count);
  }
}
