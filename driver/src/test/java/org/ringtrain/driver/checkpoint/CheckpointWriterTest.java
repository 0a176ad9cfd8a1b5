/*
 * Tests of CheckpointWriter's refusal of non-finite parameters, through the store that calls it:
 * nothing is written, the message names the step, the value and the tensor. Test code only.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.layout;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.randomFlat;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.state;
import static org.ringtrain.driver.checkpoint.CheckpointFixtures.steppedAdamW;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CheckpointWriterTest {

  @TempDir
  Path root;

  @Test
  void parametersWithANanOrAnInfinityAreRefusedAndNothingIsLeftOnDisk() throws Exception {
    CheckpointStore store = new CheckpointStore(HadoopSettings.defaults(), root.toUri().toString(), 3);
    ParameterLayout layout = layout();
    INDArray params = randomFlat(layout, 1);
    try (AdamW adam = steppedAdamW(layout, params, 2)) {
      store.write(state(1), layout, params, adam);
      long last = layout.totalElements() - 1;
      for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
        params.putScalar(last, bad);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> store.write(state(2), layout, params, adam));
        assertTrue(e.getMessage().contains("refusing to write the checkpoint of step 2"), e.getMessage());
        assertTrue(e.getMessage().contains("found " + bad + " at flat element " + last), e.getMessage());
        String lastTensor = layout.tensors().get(layout.tensors().size() - 1).name();
        assertTrue(e.getMessage().contains("(tensor " + lastTensor + ")"), e.getMessage());
      }
    }
    assertEquals(1, store.list().size(), "only the finite checkpoint of step 1: " + store.list());
    try (var entries = Files.list(root)) {
      List<String> names = entries.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).toList();
      assertEquals(1, names.size(), "no temporary directory left behind: " + names);
    }
  }
}
