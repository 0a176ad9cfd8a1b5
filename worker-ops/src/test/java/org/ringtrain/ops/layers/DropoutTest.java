/*
 * Tests of Dropout and its kernel: the drop rate and the inverted scale, masks that are a pure
 * function of their key (the same in float32 and float64, in place or not, on any thread count),
 * a backward that applies the forward's mask, and masks that change with every part of the key.
 * Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.ops.layers.LayerTestSupport.randn;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.kernels.DropoutKernel;
import org.ringtrain.ops.param.SplitMix64;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DropoutTest {

  private static final int B = 3;
  private static final int T = 40;
  private static final int C = 50;

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static Dropout.Mask mask(double p, long step, int... samples) {
    return new Dropout.Mask(p, Dropout.siteKey(7, step, 2, 1), samples, T);
  }

  /** Which elements of a [B*T, C] array the mask keeps, as 0/1 in a float64 array. */
  private static INDArray kept(Dropout.Mask mask) {
    INDArray ones = Nd4j.ones(DataType.DOUBLE, (long) mask.samples().length * T, C);
    Dropout.forward(ones, ones, mask);
    return ones.gt(0).castTo(DataType.DOUBLE);
  }

  @Test
  void keptUnitsAreScaledByOneOverOneMinusPAndAboutPAreDropped() {
    INDArray x = randn(1, 1, B * T, C);
    INDArray out = Nd4j.create(DataType.DOUBLE, B * T, C);
    Dropout.Mask m = mask(0.25, 0, 10, 11, 12);
    Dropout.forward(out, x, m);
    int dropped = 0;
    for (long i = 0; i < x.length(); i++) {
      double o = out.getDouble(i);
      if (o == 0) {
        dropped++;
      } else {
        assertEquals(x.getDouble(i) / 0.75, o, 1e-15, "element " + i);
      }
    }
    double rate = dropped / (double) x.length();
    // 6000 Bernoulli(0.25) draws: the standard deviation of the rate is ~0.0056.
    assertEquals(0.25, rate, 0.025, "dropped fraction");
  }

  @Test
  void theMaskIsThatOfTheSplitMix64StreamSeededWithTheRowKey() {
    long threshold = DropoutKernel.threshold(0.5);
    long rowKey = DropoutKernel.rowKey(DropoutKernel.siteKey(3, 4, 5, 6), 17, 9);
    SplitMix64 stream = new SplitMix64(rowKey);
    for (int k = 0; k < 200; k++) {
      assertEquals((stream.nextLong() >>> 32) >= threshold, DropoutKernel.keep(rowKey, k, threshold), "column " + k);
    }
    // The kernel draws the same: row 9 of sample 17 at that site, every column.
    Dropout.Mask m = new Dropout.Mask(0.5, DropoutKernel.siteKey(3, 4, 5, 6), new int[] {17}, 10);
    INDArray ones = Nd4j.ones(DataType.FLOAT, 10, 200);
    Dropout.forward(ones, ones, m);
    for (int k = 0; k < 200; k++) {
      assertEquals(DropoutKernel.keep(rowKey, k, threshold), ones.getFloat(9, k) != 0f, "kernel, column " + k);
    }
  }

  @Test
  void backwardAppliesTheForwardMaskWithTheSameScale() {
    Dropout.Mask m = mask(0.3, 5, 4, 8, 15);
    INDArray x = randn(2, 1, B * T, C);
    INDArray out = Nd4j.create(DataType.DOUBLE, B * T, C);
    Dropout.forward(out, x, m);
    INDArray dout = randn(3, 1, B * T, C);
    INDArray dinp = dout.dup();
    Dropout.backward(dinp, dinp, m); // in place, as the models use it
    // out = x * d with d in {0, 1/(1-p)}: d = out / x, and dinp must be dout * d.
    INDArray d = out.div(x);
    assertEquals(0.0, dinp.sub(dout.mul(d)).amaxNumber().doubleValue(), 1e-12);
  }

  @Test
  void float32AndFloat64DrawTheSameMaskAndThreadsChangeNothing() {
    Dropout.Mask m = mask(0.1, 2, 0, 1, 2);
    INDArray x = randn(4, 1, B * T, C);
    INDArray d = Nd4j.create(DataType.DOUBLE, B * T, C);
    Dropout.forward(d, x, m);
    INDArray xf = x.castTo(DataType.FLOAT);
    INDArray f = Nd4j.create(DataType.FLOAT, B * T, C);
    Dropout.forward(f, xf, m);
    assertEquals(0.0, d.castTo(DataType.FLOAT).sub(f).amaxNumber().doubleValue(), 1e-6);
    assertEquals(d.eq(0).castTo(DataType.INT32).sumNumber().intValue(),
        f.eq(0).castTo(DataType.INT32).sumNumber().intValue(), "same dropped elements");
    int threads = Nd4j.factory().blas().getMaxThreads();
    Nd4j.factory().blas().setMaxThreads(2);
    try {
      INDArray f2 = Nd4j.create(DataType.FLOAT, B * T, C);
      Dropout.forward(f2, xf, m);
      assertTrue(f.equals(f2), "two threads give the same bits as one");
    } finally {
      Nd4j.factory().blas().setMaxThreads(threads);
    }
  }

  @Test
  void aRowsMaskDependsOnItsSampleNotOnWhereItSitsInTheBatch() {
    INDArray full = kept(mask(0.5, 0, 20, 21, 22));
    INDArray alone = kept(new Dropout.Mask(0.5, Dropout.siteKey(7, 0, 2, 1), new int[] {21}, T));
    INDArray row1 = full.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(T, 2 * T),
        org.nd4j.linalg.indexing.NDArrayIndex.all());
    assertEquals(row1, alone, "sample 21's mask is the same at batch row 1 and alone");
  }

  @Test
  void masksDifferBetweenStepsSamplesLayersAndSites() {
    INDArray base = kept(mask(0.5, 0, 1));
    assertNotEquals(base, kept(mask(0.5, 1, 1)), "another step");
    assertNotEquals(base, kept(mask(0.5, 0, 2)), "another sample");
    assertNotEquals(base, kept(new Dropout.Mask(0.5, Dropout.siteKey(7, 0, 3, 1), new int[] {1}, T)), "another layer");
    assertNotEquals(base, kept(new Dropout.Mask(0.5, Dropout.siteKey(7, 0, 2, 2), new int[] {1}, T)), "another site");
    assertNotEquals(base, kept(new Dropout.Mask(0.5, Dropout.siteKey(8, 0, 2, 1), new int[] {1}, T)), "another seed");
    // Positions differ too: two rows of one sample are not the same mask.
    assertNotEquals(base.getRow(0), base.getRow(1), "another position");
  }

  @Test
  void badMasksAndArraysAreRefusedWithTheValuesFound() {
    IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> mask(0, 0, 1));
    assertTrue(p.getMessage().contains("p in (0, 1), but found p=0.0"), p.getMessage());
    INDArray odd = Nd4j.create(DataType.DOUBLE, 7, 3);
    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
        () -> Dropout.forward(odd, odd, mask(0.5, 0, 1, 2)));
    assertTrue(shape.getMessage().contains("a multiple of B*R=80"), shape.getMessage());
    assertTrue(shape.getMessage().contains("[7, 3]"), shape.getMessage());
  }

  /**
   * A packed mask keys a packed row by its sample and its position in that sample, so every
   * token is kept or dropped exactly as in the [B, T, C] layout, in both types and in place or
   * not; slack rows pass unchanged, and a wrong offset count is refused.
   */
  @Test
  void aPackedMaskKeepsEachTokensPaddedMaskAndPassesSlackRows() {
    int[] lengths = {5, 40, 1};
    PackedRows rows = PackedRows.of(lengths, T);
    Dropout.Mask padded = mask(0.4, 3, 10, 11, 12);
    Dropout.Mask packed = padded.packed(rows.offsets());
    for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      INDArray x = randn(2, 1, B * T, C).castTo(type);
      INDArray expected = Nd4j.create(type, B * T, C);
      Dropout.forward(expected, x, padded);
      INDArray inp = Nd4j.create(type, rows.rows(), C);
      rows.toPacked(inp, x);
      inp.getRow(rows.rows() - 1).assign(5); // a slack row (46 tokens, 48 rows)
      INDArray out = Nd4j.create(type, rows.rows(), C);
      Dropout.forward(out, inp, packed);
      INDArray inPlace = inp.dup();
      Dropout.forward(inPlace, inPlace, packed);
      assertEquals(out, inPlace, type + ": in place");
      INDArray back = Nd4j.create(type, B * T, C);
      rows.toPadded(back, out);
      for (int b = 0; b < B; b++) {
        for (int t = 0; t < lengths[b]; t++) {
          assertEquals(expected.getRow((long) b * T + t), back.getRow((long) b * T + t), type + " row " + b + " t " + t);
        }
      }
      assertEquals(inp.getRow(rows.rows() - 1), out.getRow(rows.rows() - 1), type + ": a slack row passes unchanged");
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> padded.packed(new int[] {0, 5}));
    assertTrue(e.getMessage().contains("B+1=4 row offsets, but found 2"), e.getMessage());
  }

  /**
   * Block dropout (attention over per-sample lengths) gives each entry inside a sample's [len, len]
   * blocks the mask of the whole-array dropout and leaves every other entry as it was.
   */
  @Test
  void blockDropoutMatchesTheWholeArrayInsideTheBlocksAndLeavesTheRest() {
    int heads = 2;
    int t = 20;
    int[] lengths = {3, 20, 17};
    Dropout.Mask m = new Dropout.Mask(0.3, Dropout.siteKey(7, 1, 0, 1), new int[] {4, 5, 6}, heads * t);
    for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      INDArray x = randn(3, 1, B, heads, t, t).castTo(type);
      INDArray whole = Nd4j.create(type, B, heads, t, t);
      Dropout.forward(whole, x, m);
      INDArray blocks = Nd4j.valueArrayOf(new long[] {B, heads, t, t}, 9.0, type);
      Dropout.forwardBlocks(blocks, x, m, lengths);
      for (int b = 0; b < B; b++) {
        for (int h = 0; h < heads; h++) {
          for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
              double expected = i < lengths[b] && j < lengths[b] ? whole.getDouble(b, h, i, j) : 9.0;
              assertEquals(expected, blocks.getDouble(b, h, i, j), type + " at " + b + "," + h + "," + i + "," + j);
            }
          }
        }
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dropout.forwardBlocks(
        Nd4j.create(DataType.FLOAT, B * t, C), Nd4j.create(DataType.FLOAT, B * t, C), m, lengths));
    assertTrue(e.getMessage().contains("[B, NH, T, T] arrays"), e.getMessage());
  }
}
