/*
 * DecodeAttentionKernel: the attention of one decoding step in float32 for every row of the step
 * at once, each row against its own KV cache up to its own position: the new token's k and v are
 * appended to the row's cache, then q k^T, the softmax (SoftmaxKernel's row softmax) and p v run
 * per (row, head) in one parallel pass. It is not the layer (org.ringtrain.ops.layers.CachedAttention
 * keeps the ND4J path, for float64 and JVMs without the Vector API), it owns no cache and has no
 * backward.
 */
package org.ringtrain.ops.kernels;

import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code out[i] = softmax(q_i K_i[0..pos_i]^T / sqrt(HS)) V_i[0..pos_i]} per head, for rows i of
 * a packed [n, 3C] qkv activation (GPT-2's c_attn order, heads interleaved inside each third).
 *
 * <p>Why not HeadGemm: a decode row's products are [1, HS] x [HS, pos + 1] vectors, each a
 * separate cblas call of its own length (rows sit at different positions); their call overhead,
 * not their arithmetic, would dominate. Here every (row, head) is a few vector loops in one
 * parallel pass, one call per layer and step whatever the number of rows.
 *
 * <p>Each (row, head) is computed by the same code whatever the other rows and the thread count,
 * so a row's output depends only on its own cache and input: batched decoding gives a sequence
 * exactly the bits it gets alone.
 */
public final class DecodeAttentionKernel {

  /** (row, head) pairs per chunk of work. */
  static final int CHUNK = 4;

  private DecodeAttentionKernel() {
  }

  /**
   * One sequence's keys and values of one layer, [NH, capacity, HS] each in row-major order, as
   * buffers the kernel reads and appends to. Made once per cache, so a step allocates none.
   */
  public static final class Cache {
    private final FloatBuffer keys;
    private final FloatBuffer values;
    private final int heads;
    private final int capacity;
    private final int headSize;

    private Cache(INDArray keys, INDArray values, int heads, int capacity, int headSize) {
      this.keys = Fused.floats(keys).asFloatBuffer();
      this.values = Fused.floats(values).asFloatBuffer();
      this.heads = heads;
      this.capacity = capacity;
      this.headSize = headSize;
    }

    /**
     * The cache over {@code keys} and {@code values}, which it shares memory with; null when the
     * kernel cannot run on them (see {@link #accepts}): the caller then takes the ND4J path.
     *
     * @param keys   NH * capacity * HS floats, e.g. a [1, NH, capacity, HS] array or one row's view of [B, NH, capacity, HS]
     * @param values as keys
     */
    public static Cache of(INDArray keys, INDArray values, int heads, int capacity, int headSize) {
      long length = (long) heads * capacity * headSize;
      if (keys.length() != length || values.length() != length) {
        throw new IllegalArgumentException("a decode cache needs NH * capacity * HS = " + heads + " * " + capacity
            + " * " + headSize + " = " + length + " keys and values, but found " + keys.length() + " and "
            + values.length() + "; pass one sequence's [NH, capacity, HS] arrays");
      }
      return accepts(keys, values) ? new Cache(keys, values, heads, capacity, headSize) : null;
    }

    /** Most positions it holds. */
    public int capacity() {
      return capacity;
    }
  }

  /**
   * Whether the kernel runs on these arrays: the fused kernels are on in this JVM and the arrays
   * are dense row-major float32 ({@link Fused#accepts}).
   */
  public static boolean accepts(INDArray... arrays) {
    return Fused.accepts(arrays);
  }

  /**
   * One step's attention for rows {@code [0, rows)}: row i's k and v go to position
   * {@code positions[i]} of {@code caches[i]}, then its q attends over positions
   * {@code [0, positions[i]]} of that cache. Rows must have distinct caches.
   *
   * @param out       [>= rows, C] rows [0, rows) overwritten
   * @param inp       [>= rows, 3C] packed q, k, v of the new tokens
   * @param caches    row i's cache, of the step's layer
   * @param positions row i's position, in [0, caches[i].capacity())
   * @param rows      n
   * @param heads     NH
   */
  public static void forward(INDArray out, INDArray inp, Cache[] caches, int[] positions, int rows, int heads) {
    int c = (int) out.size(1);
    int hs = c / heads;
    if (inp.size(1) != 3L * c || out.size(0) < rows || inp.size(0) < rows || caches.length < rows
        || positions.length < rows || c % heads != 0) {
      throw new IllegalArgumentException("DecodeAttentionKernel: expected out [>= " + rows + ", C], inp [>= " + rows
          + ", 3C] with C divisible by NH " + heads + ", and a cache and a position per row, but found out "
          + java.util.Arrays.toString(out.shape()) + ", inp " + java.util.Arrays.toString(inp.shape()) + ", "
          + caches.length + " caches, " + positions.length + " positions; pass matching arrays");
    }
    for (int i = 0; i < rows; i++) {
      Cache cache = caches[i];
      if (cache == null || cache.heads != heads || cache.headSize != hs || positions[i] < 0
          || positions[i] >= cache.capacity) {
        throw new IllegalArgumentException("DecodeAttentionKernel: row " + i + " needs a cache of " + heads
            + " heads of size " + hs + " and a position inside it, but found "
            + (cache == null ? "no cache" : cache.heads + " heads of size " + cache.headSize + ", capacity "
            + cache.capacity) + " at position " + positions[i] + "; use the model's caches and advance each once");
      }
    }
    float scale = (float) (1.0 / Math.sqrt(hs));
    FloatBuffer q = Fused.floats(inp).asFloatBuffer();
    FloatBuffer y = Fused.floats(out).asFloatBuffer();
    Parallel.forChunks(rows * heads, CHUNK, (from, to) -> {
      for (int unit = from; unit < to; unit++) {
        int row = unit / heads;
        attend(y, q, caches[row], positions[row], row, unit % heads, c, hs, scale);
      }
    });
  }

  /** Row {@code row}'s head {@code h}: append its k and v, then attend over the first pos + 1 slots. */
  private static void attend(FloatBuffer out, FloatBuffer inp, Cache cache, int pos, int row, int h, int c, int hs,
      float scale) {
    int len = pos + 1;
    int qAt = row * 3 * c + h * hs;
    int headAt = h * cache.capacity * hs; // first float of this head's [capacity, HS] block
    float[] q = Scratch.floats(0, hs);
    float[] kv = Scratch.floats(1, len * hs);
    float[] p = Scratch.floats(2, len);
    float[] acc = Scratch.floats(3, hs);
    // Append: k and v of the new token go to slot pos of the head's block.
    inp.get(qAt + c, q, 0, hs);
    cache.keys.put(headAt + pos * hs, q, 0, hs);
    inp.get(qAt + 2 * c, q, 0, hs);
    cache.values.put(headAt + pos * hs, q, 0, hs);
    inp.get(qAt, q, 0, hs);
    // Scores: p[j] = scale * (q . k_j), then the softmax over the len valid slots.
    cache.keys.get(headAt, kv, 0, len * hs);
    int bound = Lanes.bound(hs);
    for (int j = 0; j < len; j++) {
      int k = j * hs;
      FloatVector dot = FloatVector.zero(Lanes.FLOATS);
      int d = 0;
      for (; d < bound; d += Lanes.N) {
        dot = Lanes.load(q, d).fma(Lanes.load(kv, k + d), dot);
      }
      float s = Lanes.sum(dot);
      for (; d < hs; d++) {
        s += q[d] * kv[k + d];
      }
      p[j] = scale * s;
    }
    SoftmaxKernel.softmaxRow(p, null, 0, len);
    // Output: acc = sum_j p[j] v_j.
    cache.values.get(headAt, kv, 0, len * hs);
    java.util.Arrays.fill(acc, 0, hs, 0f);
    for (int j = 0; j < len; j++) {
      int v = j * hs;
      FloatVector pj = FloatVector.broadcast(Lanes.FLOATS, p[j]);
      int d = 0;
      for (; d < bound; d += Lanes.N) {
        Lanes.store(Lanes.load(kv, v + d).fma(pj, Lanes.load(acc, d)), acc, d);
      }
      for (; d < hs; d++) {
        acc[d] += p[j] * kv[v + d];
      }
    }
    out.put(row * c + h * hs, acc, 0, hs);
  }
}
