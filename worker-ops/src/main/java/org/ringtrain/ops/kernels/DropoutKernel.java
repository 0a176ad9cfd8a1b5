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
    boolean floats = inp.dataType() == DataType.FLOAT;
    Parallel.forChunks(rows, chunkRows(cols), (from, to) -> {
      for (int r = from; r < to; r++) {
        long key = rowKey(siteKey, samples[r / rowsPerSample], r % rowsPerSample);
        dropRow(o, x, r * cols, cols, key, threshold, scale, floats);
      }
    });
  }

  /**
   * {@link #apply} for a packed [rows, K] array: sample b owns rows {@code offsets[b] ..
   * offsets[b+1]-1}, and its row r gets the key of row {@code r - offsets[b]} of the [B, R, K]
   * layout, so a token's mask is the same packed or padded; rows past offsets[B] are copied
   * unchanged.
   *
   * @param out     [rows, K] overwritten
   * @param inp     [rows, K]
   * @param offsets B+1 row starts
   */
  public static void applyPacked(INDArray out, INDArray inp, long siteKey, int[] samples, int[] offsets,
      long threshold, double scale) {
    int rows = (int) inp.size(0);
    int cols = (int) (inp.length() / rows);
    int batch = samples.length;
    ByteBuffer o = Fused.elements(out);
    ByteBuffer x = Fused.elements(inp);
    int width = inp.dataType().width();
    boolean floats = inp.dataType() == DataType.FLOAT;
    boolean inPlace = out == inp;
    Parallel.forChunks(rows, chunkRows(cols), (from, to) -> {
      int b = 0;
      while (b < batch && offsets[b + 1] <= from) {
        b++;
      }
      for (int r = from; r < to; r++) {
        while (b < batch && offsets[b + 1] <= r) {
          b++;
        }
        if (b == batch) { // a slack row
          if (!inPlace) {
            o.put(r * cols * width, x, r * cols * width, cols * width);
          }
          continue;
        }
        dropRow(o, x, r * cols, cols, rowKey(siteKey, samples[b], r - offsets[b]), threshold, scale, floats);
      }
    });
  }

  /**
   * {@link #apply} on attention probabilities [B, NH, T, T] (R = NH*T rows per sample) inside
   * each (sample, head)'s top-left [len, len] block only (attention over per-sample lengths, which
   * reads nothing else); an element there gets the same mask as in {@link #apply}, and elements
   * outside the blocks are neither read nor written.
   *
   * @param out     [B, NH, T, T] overwritten inside the blocks
   * @param inp     [B, NH, T, T]
   * @param lengths B sample lengths in [1, T]
   */
  public static void applyBlocks(INDArray out, INDArray inp, long siteKey, int[] samples, int[] lengths,
      long threshold, double scale) {
    int heads = (int) inp.size(1);
    int t = (int) inp.size(2);
    ByteBuffer o = Fused.elements(out);
    ByteBuffer x = Fused.elements(inp);
    boolean floats = inp.dataType() == DataType.FLOAT;
    Parallel.forChunks(samples.length * heads, 4, (from, to) -> {
      for (int block = from; block < to; block++) {
        int b = block / heads;
        int h = block % heads;
        for (int i = 0; i < lengths[b]; i++) {
          long key = rowKey(siteKey, samples[b], h * t + i);
          dropRow(o, x, (block * t + i) * t, lengths[b], key, threshold, scale, floats);
        }
      }
    });
  }

  /** Whole rows of about CHUNK_ELEMENTS elements. */
  private static int chunkRows(int cols) {
    return Math.max(1, CHUNK_ELEMENTS / Math.max(1, cols));
  }

  /** One row of {@code cols} elements from element {@code base}: {@code out = inp * m * scale}. */
  private static void dropRow(ByteBuffer o, ByteBuffer x, int base, int cols, long rowKey, long threshold,
      double scale, boolean floats) {
    long counter = rowKey;
    if (floats) {
      float s = (float) scale;
      for (int k = 0; k < cols; k++) {
        counter += GOLDEN; // column k's draw is mix(rowKey + (k + 1) GOLDEN), as keep() says
        int at = (base + k) * 4;
        float v = x.getFloat(at);
        // x * m is x itself for x = +-0: skip the draw (causal attention is half zeros).
        o.putFloat(at, v == 0f ? v : v * ((mix(counter) >>> 32) >= threshold ? s : 0f));
      }
    } else {
      for (int k = 0; k < cols; k++) {
        counter += GOLDEN;
        int at = (base + k) * 8;
        double v = x.getDouble(at);
        o.putDouble(at, v == 0.0 ? v : v * ((mix(counter) >>> 32) >= threshold ? scale : 0.0));
      }
    }
  }
}
