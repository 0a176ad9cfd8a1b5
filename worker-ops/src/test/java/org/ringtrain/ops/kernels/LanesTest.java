/*
 * Tests of Lanes' reproducible exp: accuracy against Math.exp over float32's range, the edges
 * (flush to 0 below 1.8e-38, overflow to +inf, NaN), and the scalar form equal bit for bit to each lane of
 * the vector form. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LanesTest {

  @Test
  void expIsAccurateAndTheScalarFormMatchesEveryLane() {
    int count = 200_000;
    ByteBuffer in = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
    ByteBuffer out = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
    for (int i = 0; i < count; i++) {
      in.putFloat(i * 4, -90f + 180f * i / count);
    }
    for (int i = 0; i + Lanes.N <= count; i += Lanes.N) {
      Lanes.store(Lanes.exp(Lanes.load(in, i)), out, i);
    }
    double worst = 0;
    for (int i = 0; i + Lanes.N <= count; i++) {
      float x = in.getFloat(i * 4);
      float got = out.getFloat(i * 4);
      assertEquals(Float.floatToRawIntBits(Lanes.exp(x)), Float.floatToRawIntBits(got), "scalar vs lane at x=" + x);
      double want = Math.exp(x);
      if (x >= Lanes.EXP_LO && want <= Float.MAX_VALUE) {
        worst = Math.max(worst, Math.abs(got - want) / want);
      }
    }
    assertTrue(worst < 3e-7, "largest relative error of exp " + worst + " (float32 ulp is 6e-8)");
  }

  @Test
  void expUnderflowsToZeroOverflowsToInfinityAndKeepsNaN() {
    assertEquals(0f, Lanes.exp(-1e9f));
    assertEquals(0f, Lanes.exp(-87.5f));
    assertEquals(Float.POSITIVE_INFINITY, Lanes.exp(89f));
    assertTrue(Lanes.exp(88.7f) > 3e38f && Lanes.exp(88.7f) < Float.POSITIVE_INFINITY, "exp(88.7)");
    assertTrue(Float.isNaN(Lanes.exp(Float.NaN)));
    assertEquals(1f, Lanes.exp(0f));
  }

  /**
   * The JVM flag the docs and the shipped configurations give names this class, and the test JVM
   * (surefire's argLine: the parent pom's spark.jvm.flags) carries it.
   */
  @Test
  void theInliningFlagNamesThisClassAndTheTestJvmHasIt() {
    assertEquals(Lanes.class.getName(), Fused.INLINE_LANES);
    assertTrue(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
        .contains("-XX:CompileCommand=inline," + Fused.INLINE_LANES + "::*"), "spark.jvm.flags lost the inlining flag");
  }
}
