/*
 * DropoutKernel: inverted dropout with masks from a counter-based hash, in float32 and float64,
 * one pass over memory. The mask of an element is a pure function of its key (seed, step, site,
 * sample, row, column), never stored and never drawn from a stateful generator, so a recomputed
 * forward, the backward pass and another rank all see the same mask. It is not the Dropout layer
 * (org.ringtrain.ops.layers.Dropout says where masks apply) and not a general random generator.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code out = inp * m / (1 - p)} with {@code m} in {0, 1}, for an array seen as
 * {@code [B, R, K]}: B samples, R rows per sample, K columns. Row {@code r} of sample {@code b}
 * has the key {@code rowKey(siteKey, samples[b], r)}, and its column {@code k} is kept when the
 * high 32 bits of {@code mix(rowKey + (k + 1) * GOLDEN)} are at least {@code threshold(p)}: the
 * k-th output of a SplitMix64 generator seeded with the row key (Steele, Lea and Flood, "Fast
 * splittable pseudorandom number generators", OOPSLA 2014). A counter-based design as in
 * Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC 2011): any element's bits come
 * from its coordinates alone, in any order and on any thread.
 *
 * <p>Needs no Vector API: the hash is integer work the JIT compiles to plain scalar code, and
 * every element is computed by one thread with the same code, so the result does not depend on
 * the thread count.
 */
public final class DropoutKernel {

  /** SplitMix64's increment, 2^64 divided by the golden ratio. */
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  /** Elements per chunk of work, about; a chunk is whole rows. */
  private static final int CHUNK_ELEMENTS = 16 * 1024;

  private DropoutKernel() {
  }

  /** SplitMix64's output function (Stafford's Mix13): a bijection of 64-bit words. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Folds {@code value} into the key {@code key}; injective in {@code value} for a fixed key. */
  static long combine(long key, long value) {
    return mix(key ^ mix((value + 1) * GOLDEN));
  }

  /**
   * The key of one dropout site of one forward pass: every mask of the site derives from it.
   *
   * @param seed  the run's seed
   * @param step  the optimizer step (0-based)
   * @param layer the block, or -1 for sites outside the blocks (the embeddings)
   * @param site  which dropout of the layer (the caller numbers them)
   */
  public static long siteKey(long seed, long step, int layer, int site) {
    return combine(combine(combine(mix(seed), step), layer), site);
  }

  /** The key of row {@code row} of sample {@code sample} at a site. */
  public static long rowKey(long siteKey, long sample, int row) {
    return combine(combine(siteKey, sample), row);
  }

  /** Elements whose 32-bit draw is below this are dropped: {@code round(p * 2^32)}. */
  public static long threshold(double p) {
    return Math.round(p * 0x1.0p32);
  }

  /** Whether column {@code col} of the row with key {@code rowKey} is kept. */
  public static boolean keep(long rowKey, int col, long threshold) {
    return (mix(rowKey + (col + 1L) * GOLDEN) >>> 32) >= threshold;
  }

  /**
   * Whether the kernel addresses these arrays: float32 or float64, dense row-major, of one type,
   * and at most 2^31 - 1 bytes each.
   */
  public static boolean accepts(INDArray out, INDArray inp) {
    DataType type = inp.dataType();
    return (type == DataType.FLOAT || type == DataType.DOUBLE) && out.dataType() == type
        && out.length() == inp.length() && Fused.denseRowMajor(out) && Fused.denseRowMajor(inp)
        && inp.length() * type.width() <= Integer.MAX_VALUE;
  }

  /**
   * {@code out = inp * m * scale} where m is the mask described in the class comment; {@code out}
   * may be {@code inp}. Callers check {@link #accepts} first.
   *
   * @param out           [B, R, K] overwritten
   * @param inp           [B, R, K]
   * @param siteKey       from {@link #siteKey}
   * @param samples       B sample indices, one per leading row block
   * @param rowsPerSample R
   * @param threshold     from {@link #threshold}
   * @param scale         1 / (1 - p)
   */
  public static void apply(INDArray out, INDArray inp, long siteKey, int[] samples, int rowsPerSample,
      long threshold, double scale) {
    int rows = samples.length * rowsPerSample;
    int cols = (int) (inp.length() / rows);
    ByteBuffer o = Fused.elements(out);
    ByteBuffer x = Fused.elements(inp);
    int chunkRows = Math.max(1, CHUNK_ELEMENTS / Math.max(1, cols));
    if (inp.dataType() == DataType.FLOAT) {
      float s = (float) scale;
      Parallel.forChunks(rows, chunkRows, (from, to) -> {
        for (int r = from; r < to; r++) {
          long counter = rowKey(siteKey, samples[r / rowsPerSample], r % rowsPerSample);
          int base = r * cols;
          for (int k = 0; k < cols; k++) {
            counter += GOLDEN; // column k's draw is mix(rowKey + (k + 1) GOLDEN), as keep() says
            int at = (base + k) * 4;
            float v = x.getFloat(at);
            // x * m is x itself for x = +-0: skip the draw (causal attention is half zeros).
            o.putFloat(at, v == 0f ? v : v * ((mix(counter) >>> 32) >= threshold ? s : 0f));
          }
        }
      });
    } else {
      Parallel.forChunks(rows, chunkRows, (from, to) -> {
        for (int r = from; r < to; r++) {
          long counter = rowKey(siteKey, samples[r / rowsPerSample], r % rowsPerSample);
          int base = r * cols;
          for (int k = 0; k < cols; k++) {
            counter += GOLDEN;
            int at = (base + k) * 8;
            double v = x.getDouble(at);
            o.putDouble(at, v == 0.0 ? v : v * ((mix(counter) >>> 32) >= threshold ? scale : 0.0));
          }
        }
      });
    }
  }
}
