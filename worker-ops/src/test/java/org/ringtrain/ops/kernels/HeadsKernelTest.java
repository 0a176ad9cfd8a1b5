/*
 * Tests of HeadsKernel: both directions equal ND4J's permuting assign bit for bit, for packed
 * q, k, v (P = 3) and for a C-wide activation (P = 1), on sizes off every chunk and vector
 * boundary. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.ringtrain.ops.kernels.KernelTestSupport.assertSameBits;
import static org.ringtrain.ops.kernels.KernelTestSupport.randn;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.SingleThreadedNd4j;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HeadsKernelTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  @Test
  void copiesLikeNd4jsPermutingAssignBothWays() {
    int b = 3;
    int t = 19;
    int nh = 2;
    int hs = 5;
    for (int parts : new int[] {1, 3}) {
      INDArray tokens = randn(parts, 0, 1, b * t, parts * nh * hs).castTo(DataType.FLOAT);
      INDArray want = Nd4j.create(DataType.FLOAT, parts, b, nh, t, hs);
      want.assign(tokens.reshape(b, t, parts, nh, hs).permute(2, 0, 3, 1, 4));
      INDArray heads = Nd4j.create(DataType.FLOAT, parts, b, nh, t, hs);
      HeadsKernel.toHeads(heads, tokens, b, t, parts, nh);
      assertSameBits("to heads, P=" + parts, want, heads);
      INDArray back = Nd4j.create(DataType.FLOAT, b * t, parts * nh * hs);
      HeadsKernel.fromHeads(back, heads, b, t, parts, nh);
      assertSameBits("from heads, P=" + parts, tokens, back);
    }
  }
}
