/*
 * SplitMix64: a tiny pure-Java pseudo-random generator whose output is fixed by this file alone.
 * It is not cryptographic and not ND4J's RNG (whose native streams may differ between ND4J builds,
 * backends and thread counts); initialisation and sampling use it so that a seed means the same
 * numbers in every JVM.
 */
package org.ringtrain.ops.param;

/**
 * Steele, Lea and Flood's SplitMix64 (the generator behind java.util.SplittableRandom), written out
 * so its sequence cannot change with the JDK. Gaussians use Box-Muller with {@link StrictMath},
 * whose results are specified bit for bit.
 */
public final class SplitMix64 {

  private static final double TWO_PI = 2 * Math.PI;

  private long state;
  private double spareGaussian;
  private boolean hasSpare;

  /** A generator seeded with {@code seed}. */
  public SplitMix64(long seed) {
    this.state = seed;
  }

  /** The next 64 random bits. */
  public long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, 1), 53 random bits. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Standard normal, by the Box-Muller transform (two values per pair of uniforms). */
  public double nextGaussian() {
    if (hasSpare) {
      hasSpare = false;
      return spareGaussian;
    }
    double u1 = 1.0 - nextDouble(); // in (0, 1], so the log is finite
    double u2 = nextDouble();
    double radius = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
    double angle = TWO_PI * u2;
    spareGaussian = radius * StrictMath.sin(angle);
    hasSpare = true;
    return radius * StrictMath.cos(angle);
  }

  /** The generator's full state, for checkpointing; {@link #restore} puts it back. */
  public long[] state() {
    return new long[] {state, hasSpare ? 1 : 0, Double.doubleToRawLongBits(spareGaussian)};
  }

  /** Restores a state from {@link #state()}. */
  public void restore(long[] saved) {
    if (saved == null || saved.length != 3) {
      throw new IllegalArgumentException("a SplitMix64 state has 3 longs, but found "
          + (saved == null ? "null" : saved.length + " longs"));
    }
    state = saved[0];
    hasSpare = saved[1] != 0;
    spareGaussian = Double.longBitsToDouble(saved[2]);
  }
}
