// GptModel.backward(listener): the ranges it reports cover the whole gradient
// buffer from its end to its start, and each is truly final when reported,
// which is what lets the trainer all-reduce it while backward continues.
package org.ringtrain.ops.param;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GradientListenerTest {

  @Test
  void reportedRangesTileTheBufferFromTheEndAndAreFinalWhenReported() {
    ModelConfig config = new ModelConfig(32, 8, 16, 3, 2, 0.0);
    try (GptModel model = GptModel.initialised(config, 7)) {
      int b = 2;
      int t = 8;
      int[] inputs = new int[b * t];
      int[] targets = new int[b * t];
      for (int i = 0; i < inputs.length; i++) {
        inputs[i] = (i * 5) % 32;
        targets[i] = (i * 7 + 3) % 32;
      }
      model.zeroGrad();
      model.forward(inputs, targets, b, t);
      INDArray grads = model.grads().flat();
      List<long[]> ranges = new ArrayList<>();
      List<float[]> snapshots = new ArrayList<>();
      model.backward((from, to) -> {
        ranges.add(new long[] {from, to});
        snapshots.add(from == to ? new float[0] : grads.get(NDArrayIndex.interval(from, to)).toFloatVector());
      });
      long total = model.layout().totalElements();
      assertEquals(config.layers() + 2, ranges.size(), "ln_f, one per block, then the embeddings");
      long expectedTo = total;
      for (long[] r : ranges) {
        assertEquals(expectedTo, r[1], "each range ends where the previous one began");
        assertTrue(r[0] < r[1], "non-empty range");
        expectedTo = r[0];
      }
      assertEquals(0, expectedTo, "the ranges reach the start of the buffer");
      for (int i = 0; i < ranges.size(); i++) {
        long[] r = ranges.get(i);
        assertArrayEquals(snapshots.get(i), grads.get(NDArrayIndex.interval(r[0], r[1])).toFloatVector(),
            "gradients [" + r[0] + ", " + r[1] + ") changed after they were reported final");
      }
    }
  }
}
