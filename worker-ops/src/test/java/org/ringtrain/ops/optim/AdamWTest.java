/*
 * AdamWTest: AdamW against a plain-double reference of torch.optim.AdamW's formulas, weight decay
 * restricted to 2-D tensors, determinism, lazy state and argument checks. It does not test state
 * files (OptimizerStateReaderTest does).
 */
package org.ringtrain.ops.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(60)
class AdamWTest {

  private static final double LR = 0.01;
  private static final double WD = 0.1;

  @Test
  void defaultsAreThoseOfTheIssue() {
    AdamW.Config c = AdamW.Config.defaults();
    assertEquals(3e-4, c.lr());
    assertEquals(0.9, c.beta1());
    assertEquals(0.95, c.beta2());
    assertEquals(1e-8, c.eps());
    assertEquals(0.1, c.weightDecay());
  }

  @Test
  void twoStepsMatchHandComputedValuesOnDecayingAndNonDecayingElements() {
    ParameterLayout layout = OptimTestData.tinyLayout();
    long n = layout.totalElements();
    INDArray params = OptimTestData.gaussian(n, 1, 0.5);
    INDArray grads1 = OptimTestData.gaussian(n, 2, 0.1);
    INDArray grads2 = OptimTestData.gaussian(n, 3, 0.1);
    AdamW.Config config = AdamW.Config.defaults().withLr(LR).withWeightDecay(WD);
    // A few elements: the first and last of a matrix, and of a LayerNorm and a bias vector.
    TensorSpec wte = layout.get("wte.weight");
    TensorSpec qkv = layout.get("h.0.attn.c_attn.weight");
    TensorSpec ln = layout.get("h.0.ln_1.weight");
    TensorSpec bias = layout.get("h.0.mlp.c_fc.bias");
    long[] probes = {wte.offset(), qkv.offset() + qkv.length() - 1, ln.offset(), bias.offset() + 5};
    boolean[] decays = {true, true, false, false};
    double[] p = new double[probes.length];
    double[] m = new double[probes.length];
    double[] v = new double[probes.length];
    for (int i = 0; i < probes.length; i++) {
      p[i] = params.getFloat(probes[i]);
    }
    try (AdamW adamW = new AdamW(layout, config)) {
      INDArray[] grads = {grads1, grads2};
      for (int t = 1; t <= 2; t++) {
        adamW.step(params, grads[t - 1], LR);
        for (int i = 0; i < probes.length; i++) {
          double g = grads[t - 1].getFloat(probes[i]);
          // Textbook AdamW with torch's bias correction and eps placement, in double.
          if (decays[i]) {
            p[i] *= 1.0 - LR * WD;
          }
          m[i] = 0.9 * m[i] + 0.1 * g;
          v[i] = 0.95 * v[i] + 0.05 * g * g;
          double mHat = m[i] / (1.0 - Math.pow(0.9, t));
          double denom = Math.sqrt(v[i]) / Math.sqrt(1.0 - Math.pow(0.95, t)) + 1e-8;
          p[i] -= LR * mHat / denom;
          assertEquals(p[i], params.getFloat(probes[i]), 1e-6, "param at " + probes[i] + " after step " + t);
          assertEquals(m[i], adamW.firstMoment().getFloat(probes[i]), 1e-7, "m at " + probes[i]);
          assertEquals(v[i], adamW.secondMoment().getFloat(probes[i]), 1e-8, "v at " + probes[i]);
        }
      }
      assertEquals(2, adamW.stepCount());
    }
  }

  @Test
  void weightDecayShrinksOnlyTwoDimensionalTensors() {
    ParameterLayout layout = OptimTestData.tinyLayout();
    INDArray params = OptimTestData.gaussian(layout.totalElements(), 4, 1.0);
    INDArray before = params.dup();
    INDArray zeroGrads = Nd4j.zeros(DataType.FLOAT, layout.totalElements());
    try (AdamW adamW = new AdamW(layout, AdamW.Config.defaults().withLr(LR).withWeightDecay(WD))) {
      // With zero gradients the Adam update is exactly 0, so only decay can move a parameter.
      adamW.step(params, zeroGrads, LR);
    }
    float factor = (float) (1.0 - LR * WD);
    for (TensorSpec t : layout.tensors()) {
      for (long i = t.offset(); i < t.offset() + t.length(); i++) {
        float was = before.getFloat(i);
        float now = params.getFloat(i);
        if (t.decays()) {
          assertEquals(was * factor, now, 1e-7, t.name() + " element " + (i - t.offset()) + " must decay");
        } else {
          assertEquals(Float.floatToRawIntBits(was), Float.floatToRawIntBits(now),
              t.name() + " element " + (i - t.offset()) + " (1-D) must not decay");
        }
      }
    }
  }

  @Test
  void aZeroLearningRateLeavesEveryParameterBitwiseUnchanged() {
    ParameterLayout layout = OptimTestData.tinyLayout();
    INDArray params = OptimTestData.gaussian(layout.totalElements(), 11, 1.0);
    INDArray before = params.dup();
    try (AdamW adamW = new AdamW(layout)) {
      adamW.step(params, OptimTestData.gaussian(layout.totalElements(), 12, 1.0), 0.0);
      adamW.step(params, OptimTestData.gaussian(layout.totalElements(), 13, 1.0), 0.0);
      assertEquals(2, adamW.stepCount(), "the moments still advance");
    }
    assertEquals(-1, OptimTestData.firstBitDifference(before, params), "first moved element");
  }

  @Test
  void theSameInputsGiveBitwiseTheSameSteps() {
    ParameterLayout layout = OptimTestData.chunkCrossingLayout();
    long n = layout.totalElements();
    INDArray a = OptimTestData.gaussian(n, 5, 0.02);
    INDArray b = a.dup();
    try (AdamW first = new AdamW(layout); AdamW second = new AdamW(layout)) {
      for (int t = 0; t < 3; t++) {
        INDArray grads = OptimTestData.gaussian(n, 100 + t, 0.01);
        first.step(a, grads);
        second.step(b, grads.dup());
      }
      assertEquals(-1, OptimTestData.firstBitDifference(a, b), "first differing element");
      assertEquals(-1, OptimTestData.firstBitDifference(first.secondMoment(), second.secondMoment()));
    }
  }

  @Test
  void stateIsAllocatedOnTheFirstStepAndReleasedOnClose() {
    ParameterLayout layout = OptimTestData.tinyLayout();
    AdamW adamW = new AdamW(layout);
    assertNull(adamW.firstMoment());
    assertEquals(0, adamW.stepCount());
    INDArray params = OptimTestData.gaussian(layout.totalElements(), 6, 1.0);
    adamW.step(params, OptimTestData.gaussian(layout.totalElements(), 7, 1.0));
    assertNotNull(adamW.firstMoment());
    assertEquals(layout.totalElements(), adamW.secondMoment().length());
    adamW.close();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> adamW.step(params, OptimTestData.gaussian(layout.totalElements(), 8, 1.0)));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void buffersOfTheWrongSizeOrTypeAreRejectedWithTheValuesFound() {
    ParameterLayout layout = OptimTestData.tinyLayout();
    try (AdamW adamW = new AdamW(layout)) {
      INDArray params = OptimTestData.gaussian(layout.totalElements(), 9, 1.0);
      IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
          () -> adamW.step(params, Nd4j.zeros(DataType.FLOAT, 299)));
      assertTrue(size.getMessage().contains("300") && size.getMessage().contains("299"), size.getMessage());
      IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
          () -> adamW.step(params, Nd4j.zeros(DataType.DOUBLE, 300)));
      assertTrue(type.getMessage().contains("DOUBLE"), type.getMessage());
      assertThrows(IllegalArgumentException.class, () -> adamW.step(params, params));
      assertThrows(IllegalArgumentException.class, () -> adamW.step(params, params.dup(), Double.NaN));
      assertNull(adamW.firstMoment(), "a rejected step must not allocate state");
    }
  }

  @Test
  void configRejectsOutOfRangeValuesNamingTheField() {
    IllegalArgumentException beta = assertThrows(IllegalArgumentException.class,
        () -> new AdamW.Config(3e-4, 1.0, 0.95, 1e-8, 0.1));
    assertTrue(beta.getMessage().contains("beta1=1.0"), beta.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(3e-4, 0.9, 0.999999999, 1e-8, 0.1));
    assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(-1, 0.9, 0.95, 1e-8, 0.1));
    assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(3e-4, 0.9, 0.95, 0, 0.1));
    assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(3e-4, 0.9, 0.95, 1e-8, -0.1));
  }

  /** Ranges cut at awkward places (inside tensors, across decay boundaries): shard k of 3 of two "buckets". */
  private static OwnedRanges shardOf(ParameterLayout layout, int k) {
    long n = layout.totalElements();
    long cut = n / 3 + 17; // a bucket boundary inside some tensor
    long[] starts = new long[2];
    long[] ends = new long[2];
    long[][] buckets = {{0, cut}, {cut, n}};
    for (int b = 0; b < 2; b++) {
      long len = buckets[b][1] - buckets[b][0];
      starts[b] = buckets[b][0] + len * k / 3;
      ends[b] = buckets[b][0] + len * (k + 1) / 3;
    }
    return OwnedRanges.of(layout, starts, ends);
  }

  @Test
  void shardedRangesUpdateBitwiseEqualToFullAdamW() {
    ParameterLayout layout = OptimTestData.chunkCrossingLayout();
    long n = layout.totalElements();
    AdamW.Config config = AdamW.Config.defaults().withLr(LR).withWeightDecay(WD);
    INDArray full = OptimTestData.gaussian(n, 1, 0.5);
    INDArray[] sharded = new INDArray[3];
    AdamW[] shards = new AdamW[3];
    for (int k = 0; k < 3; k++) {
      sharded[k] = full.dup();
      shards[k] = new AdamW(layout, config, shardOf(layout, k));
    }
    try (AdamW whole = new AdamW(layout, config)) {
      for (int t = 0; t < 3; t++) {
        INDArray grads = OptimTestData.gaussian(n, 10 + t, 0.1);
        whole.step(full, grads, LR);
        for (int k = 0; k < 3; k++) {
          shards[k].step(sharded[k], grads, LR);
        }
      }
      INDArray before = OptimTestData.gaussian(n, 1, 0.5);
      float[] expected = OptimTestData.values(full);
      float[] initial = OptimTestData.values(before);
      for (int k = 0; k < 3; k++) {
        OwnedRanges owned = shards[k].owned();
        float[] got = OptimTestData.values(sharded[k]);
        for (int i = 0; i < n; i++) {
          boolean mine = false;
          for (int r = 0; r < owned.count(); r++) {
            mine |= i >= owned.start(r) && i < owned.end(r);
          }
          float want = mine ? expected[i] : initial[i];
          assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]),
              "shard " + k + ", element " + i + (mine ? " (owned)" : " (not owned: must stay)"));
        }
      }
      // The shards' state, gathered, is the full optimizer's state: it continues bitwise the same.
      INDArray m = Nd4j.zeros(DataType.FLOAT, n);
      INDArray v = Nd4j.zeros(DataType.FLOAT, n);
      for (AdamW shard : shards) {
        shard.copyStateTo(m, v);
      }
      assertEquals(-1, OptimTestData.firstBitDifference(whole.firstMoment(), m));
      assertEquals(-1, OptimTestData.firstBitDifference(whole.secondMoment(), v));
      try (AdamW gathered = shards[0].unshardedWith(m, v); AdamW resharded = whole.shard(shardOf(layout, 1))) {
        assertEquals(3, gathered.stepCount());
        INDArray grads = OptimTestData.gaussian(n, 99, 0.1);
        INDArray viaShard = full.dup();
        INDArray viaGathered = full.dup();
        whole.step(full, grads, LR);
        gathered.step(viaGathered, grads, LR);
        resharded.step(viaShard, grads, LR);
        assertEquals(-1, OptimTestData.firstBitDifference(full, viaGathered));
        OwnedRanges owned = resharded.owned();
        for (int r = 0; r < owned.count(); r++) {
          assertEquals(-1, OptimTestData.firstBitDifference(
              full.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(owned.start(r), owned.end(r))),
              viaShard.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(owned.start(r), owned.end(r)))));
        }
      }
    } finally {
      for (AdamW shard : shards) {
        shard.close();
      }
    }
  }

  @Test
  void ownedRangesRefuseOverlapsAndDropEmptyRanges() {
    ParameterLayout layout = OptimTestData.tinyLayout();
    OwnedRanges r = OwnedRanges.of(layout, new long[] {0, 5, 9}, new long[] {3, 5, 20});
    assertEquals(2, r.count());
    assertEquals(14, r.elements());
    assertEquals(3, r.stateOffset(1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OwnedRanges.of(layout, new long[] {0, 2}, new long[] {3, 4}));
    assertTrue(e.getMessage().contains("sorted and disjoint"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> OwnedRanges.of(layout, new long[] {0}, new long[] {301}));
  }
}
