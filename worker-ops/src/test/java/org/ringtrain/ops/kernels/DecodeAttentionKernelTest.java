/*
 * Tests of DecodeAttentionKernel: float32 decode attention for rows at different positions of
 * caches of different capacities, against CachedAttention's ND4J composition in float64 row by row
 * (output and the appended keys and values); a row's bits do not depend on the other rows or the
 * thread count; bad caches and positions are refused. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertClose;
import static org.ringtrain.ops.kernels.KernelTestSupport.assertSameBits;
import static org.ringtrain.ops.kernels.KernelTestSupport.randn;
import static org.ringtrain.ops.kernels.KernelTestSupport.withThreads;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.layers.Attention;
import org.ringtrain.ops.layers.CachedAttention;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DecodeAttentionKernelTest {

  private static final int[] CAPACITY = {7, 20, 3, 11};
  private static final int[] POSITION = {6, 13, 0, 4}; // the last slot, a middle one, the first, another

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /** Row i's keys and values [1, NH, capacity_i, HS], random where positions before its own are filled. */
  private static INDArray[][] caches(int heads, int hs) {
    INDArray[][] kv = new INDArray[CAPACITY.length][];
    for (int i = 0; i < CAPACITY.length; i++) {
      kv[i] = new INDArray[] {randn(10 + i, 0, 1, 1, heads, CAPACITY[i], hs), randn(20 + i, 0, 1, 1, heads,
          CAPACITY[i], hs)};
    }
    return kv;
  }

  /** The kernel on float32 copies of {@code kv}; returns {out, then each row's keys and values}. */
  private static INDArray[] fused(INDArray qkv, INDArray[][] kv, int[] rows, int heads, int hs) {
    int n = rows.length;
    INDArray out = Nd4j.create(DataType.FLOAT, n, heads * hs);
    INDArray inp = Nd4j.create(DataType.FLOAT, n, 3 * heads * hs);
    DecodeAttentionKernel.Cache[] caches = new DecodeAttentionKernel.Cache[n];
    int[] positions = new int[n];
    INDArray[] result = new INDArray[1 + 2 * n];
    for (int r = 0; r < n; r++) {
      int i = rows[r];
      inp.getRow(r).assign(qkv.getRow(i));
      result[1 + 2 * r] = kv[i][0].castTo(DataType.FLOAT);
      result[2 + 2 * r] = kv[i][1].castTo(DataType.FLOAT);
      caches[r] = DecodeAttentionKernel.Cache.of(result[1 + 2 * r], result[2 + 2 * r], heads, CAPACITY[i], hs);
      positions[r] = POSITION[i];
    }
    DecodeAttentionKernel.forward(out, inp, caches, positions, n, heads);
    result[0] = out;
    return result;
  }

  @Test
  void matchesCachedAttentionInFloat64RowByRow() {
    for (int hs : new int[] {5, 16}) {
      int heads = 3;
      int c = heads * hs;
      INDArray qkv = randn(1, 0, 1, CAPACITY.length, 3 * c);
      INDArray[][] kv = caches(heads, hs);
      INDArray[] got = fused(qkv, kv, new int[] {0, 1, 2, 3}, heads, hs);
      for (int i = 0; i < CAPACITY.length; i++) {
        INDArray k = kv[i][0].dup();
        INDArray v = kv[i][1].dup();
        INDArray mask = Nd4j.create(DataType.DOUBLE, CAPACITY[i]).assign(Attention.MASKED);
        for (int p = 0; p <= POSITION[i]; p++) {
          CachedAttention.openSlot(mask, p);
        }
        INDArray want = Nd4j.create(DataType.DOUBLE, 1, c);
        CachedAttention.forward(want, k, v, Nd4j.create(DataType.DOUBLE, 1, heads, 1, hs),
            Nd4j.create(DataType.DOUBLE, 1, heads, 1, CAPACITY[i]), Nd4j.create(DataType.DOUBLE, 1, heads, 1, hs),
            qkv.get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all()), mask, POSITION[i], 1, heads);
        String row = "HS " + hs + ", row " + i + " at " + POSITION[i] + " of " + CAPACITY[i];
        assertClose(row + ": out", want, got[0].getRow(i), 1e-5);
        assertClose(row + ": keys", k, got[1 + 2 * i], 1e-7);
        assertClose(row + ": values", v, got[2 + 2 * i], 1e-7);
      }
    }
  }

  @Test
  void aRowsBitsDependOnlyOnItsOwnCacheNotOnItsBatchOrThreads() {
    int heads = 2;
    int hs = 16;
    INDArray qkv = randn(2, 0, 1, CAPACITY.length, 3 * heads * hs);
    INDArray[][] kv = caches(heads, hs);
    INDArray[][] alone = new INDArray[CAPACITY.length][];
    for (int i = 0; i < CAPACITY.length; i++) {
      alone[i] = fused(qkv, kv, new int[] {i}, heads, hs);
    }
    INDArray[][] together = new INDArray[2][];
    withThreads(1, () -> together[0] = fused(qkv, kv, new int[] {3, 1, 0, 2}, heads, hs));
    withThreads(3, () -> together[1] = fused(qkv, kv, new int[] {3, 1, 0, 2}, heads, hs));
    int[] order = {3, 1, 0, 2};
    for (INDArray[] t : together) {
      for (int r = 0; r < order.length; r++) {
        INDArray[] a = alone[order[r]];
        assertSameBits("row " + order[r] + " out", a[0].getRow(0), t[0].getRow(r));
        assertSameBits("row " + order[r] + " keys", a[1], t[1 + 2 * r]);
        assertSameBits("row " + order[r] + " values", a[2], t[2 + 2 * r]);
      }
    }
  }

  @Test
  void refusesMismatchedCachesAndPositions() {
    INDArray keys = Nd4j.create(DataType.FLOAT, 1, 2, 4, 8);
    IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
        () -> DecodeAttentionKernel.Cache.of(keys, keys, 2, 5, 8));
    assertTrue(size.getMessage().contains("NH * capacity * HS = 2 * 5 * 8 = 80"), size.getMessage());
    DecodeAttentionKernel.Cache cache = DecodeAttentionKernel.Cache.of(keys, keys.dup(), 2, 4, 8);
    INDArray out = Nd4j.create(DataType.FLOAT, 1, 16);
    INDArray inp = Nd4j.create(DataType.FLOAT, 1, 48);
    DecodeAttentionKernel.Cache[] caches = {cache};
    IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
        () -> DecodeAttentionKernel.forward(out, inp, caches, new int[] {4}, 1, 2));
    assertTrue(full.getMessage().contains("capacity 4 at position 4"), full.getMessage());
    IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
        () -> DecodeAttentionKernel.forward(out, inp, caches, new int[] {0}, 1, 4));
    assertTrue(heads.getMessage().contains("needs a cache of 4 heads of size 4"), heads.getMessage());
  }
}
