/*
 * Tests of EmbeddingKernel: the lookup against libnd4j's gather plus a broadcast add, and the
 * token gradient against its serial scatter_add, bit for bit, with repeated tokens and a position
 * offset; an id outside the table is refused. Test code only.
 */
package org.ringtrain.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EmbeddingKernelTest {

  private static final int V = 11;
  private static final int C = 19; // not a multiple of the vector lanes
  private static final int B = 3;
  private static final int T = 5;

  private static INDArray tokens() {
    int[] ids = new int[B * T];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (i * 7) % 4; // few distinct ids: many repeats
    }
    return Nd4j.createFromArray(ids);
  }

  @Test
  void theLookupHasTheBitsOfGatherPlusPositions() {
    INDArray wte = KernelTestSupport.f32(KernelTestSupport.randn(1, 0, 1, V, C));
    INDArray wpe = KernelTestSupport.f32(KernelTestSupport.randn(2, 0, 1, T + 2, C));
    INDArray ids = tokens();
    INDArray want = Nd4j.create(DataType.FLOAT, B * T, C);
    Nd4j.exec(DynamicCustomOp.builder("gather").addInputs(wte, ids).addOutputs(want).addIntegerArguments(0).build());
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T; t++) {
        want.getRow((long) b * T + t).addi(wpe.getRow(t + 2));
      }
    }
    INDArray got = Nd4j.create(DataType.FLOAT, B * T, C);
    assertTrue(EmbeddingKernel.accepts(got, ids, wte, wpe));
    EmbeddingKernel.forward(got, ids, wte, wpe, T, 2);
    KernelTestSupport.assertSameBits("wte[tokens] + wpe[2 + t]", want, got);
  }

  @Test
  void theTokenGradientHasTheBitsOfSerialScatterAdd() {
    INDArray dout = KernelTestSupport.f32(KernelTestSupport.randn(3, 0, 1, B * T, C));
    INDArray start = KernelTestSupport.f32(KernelTestSupport.randn(4, 0, 1, V, C));
    INDArray ids = tokens();
    INDArray want = start.dup();
    Nd4j.exec(DynamicCustomOp.builder("scatter_add").addInputs(want, ids, dout).addOutputs(want)
        .addBooleanArguments(true, false).build());
    INDArray got = start.dup();
    EmbeddingKernel.scatterAdd(got, dout, ids);
    KernelTestSupport.assertSameBits("dwte", want, got);
    KernelTestSupport.assertSameBits("untouched row", start.get(NDArrayIndex.point(V - 1), NDArrayIndex.all()),
        got.get(NDArrayIndex.point(V - 1), NDArrayIndex.all()));
  }

  @Test
  void anIdOutsideTheTableIsRefused() {
    INDArray wte = Nd4j.zeros(DataType.FLOAT, V, C);
    INDArray ids = Nd4j.createFromArray(new int[] {0, V});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EmbeddingKernel.forward(Nd4j.zeros(DataType.FLOAT, 2, C), ids, wte, Nd4j.zeros(DataType.FLOAT, 2, C), 2, 0));
    assertTrue(e.getMessage().contains("expected token ids in [0, " + V + "), but found " + V), e.getMessage());
  }
}
