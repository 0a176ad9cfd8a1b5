/*
 * Scratch: per-thread Java float arrays the fused kernels copy rows into, so that a kernel call
 * allocates nothing after the first call on a thread. It holds no data between calls.
 */
package org.ringtrain.ops.kernels;

/**
 * A few grow-only float arrays per thread, one per slot. A kernel uses each slot for one purpose
 * within one chunk; two kernels never run at once on one thread, so slots need no further care.
 */
final class Scratch {

  /** Slots per thread. */
  static final int SLOTS = 6;

  private static final ThreadLocal<float[][]> ARRAYS = ThreadLocal.withInitial(() -> new float[SLOTS][0]);

  private Scratch() {
  }

  /** This thread's array for {@code slot}, at least {@code length} floats long. */
  static float[] floats(int slot, int length) {
    float[][] arrays = ARRAYS.get();
    if (arrays[slot].length < length) {
      arrays[slot] = new float[length];
    }
    return arrays[slot];
  }
}
