/*
 * OptimizerStateReaderTest: state written and read back continues training with bitwise the same
 * next step (AdamW and SGD, stream and file), and unknown versions, bad magic, truncation,
 * corruption and another layout are refused with messages that say what to do.
 */
package org.ringtrain.ops.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(60)
class OptimizerStateReaderTest {

  @TempDir
  Path dir;

  @Test
  void adamWContinuesWithBitwiseTheSameStepAfterAReloadFromAFile() throws IOException {
    ParameterLayout layout = OptimTestData.chunkCrossingLayout();
    try (AdamW original = new AdamW(layout, AdamW.Config.defaults().withLr(1e-3))) {
      assertContinuesIdentically(original, layout, true);
    }
  }

  @Test
  void sgdContinuesWithBitwiseTheSameStepAfterAReloadFromAStream() throws IOException {
    ParameterLayout layout = OptimTestData.tinyLayout();
    try (Sgd original = new Sgd(layout, new Sgd.Config(0.05, 0.9, 0.0, 0.01, true))) {
      assertContinuesIdentically(original, layout, false);
    }
  }

  @Test
  void stateSavedBeforeAnyStepReloadsAsAFreshOptimizer() throws IOException {
    ParameterLayout layout = OptimTestData.tinyLayout();
    try (AdamW fresh = new AdamW(layout);
        Optimizer reloaded = OptimizerStateReader.read(new ByteArrayInputStream(bytes(fresh)), layout)) {
      AdamW a = assertInstanceOf(AdamW.class, reloaded);
      assertEquals(0, a.stepCount());
      assertEquals(fresh.config(), a.config());
      assertEquals(null, a.firstMoment());
    }
  }

  @Test
  void anUnknownFormatVersionIsRefusedWithAHint() throws IOException {
    byte[] b = steppedAdamWBytes();
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 2);
    IOException e = assertThrows(IOException.class, () -> read(b));
    assertTrue(e.getMessage().contains("version 2") && e.getMessage().contains("HINT"), e.getMessage());
  }

  @Test
  void aFileWithoutTheMagicIsNotTakenForOptimizerState() throws IOException {
    byte[] b = steppedAdamWBytes();
    b[0] = 'X';
    IOException e = assertThrows(IOException.class, () -> read(b));
    assertTrue(e.getMessage().contains("magic"), e.getMessage());
  }

  @Test
  void aTruncatedStreamIsDetectedWithExpectedAndFoundBytes() throws IOException {
    byte[] full = steppedAdamWBytes();
    byte[] cut = Arrays.copyOf(full, full.length - 100);
    IOException e = assertThrows(IOException.class, () -> read(cut));
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains(String.valueOf(full.length)),
        e.getMessage());
    IOException header = assertThrows(IOException.class, () -> read(Arrays.copyOf(full, 30)));
    assertTrue(header.getMessage().contains("truncated"), header.getMessage());
  }

  @Test
  void aTruncatedFileIsDetectedBeforeReadingBuffers() throws IOException {
    byte[] full = steppedAdamWBytes();
    Path file = dir.resolve("opt.state");
    Files.write(file, Arrays.copyOf(full, full.length - 1));
    IOException e = assertThrows(IOException.class,
        () -> OptimizerStateReader.read(file, OptimTestData.tinyLayout()));
    assertTrue(e.getMessage().contains("expected " + full.length + " bytes, found " + (full.length - 1)),
        e.getMessage());
  }

  @Test
  void aFlippedDataByteFailsTheChecksum() throws IOException {
    byte[] b = steppedAdamWBytes();
    b[200] ^= 0x10;
    IOException e = assertThrows(IOException.class, () -> read(b));
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
  }

  @Test
  void stateOfAnotherLayoutIsRefusedNamingBothSizes() throws IOException {
    byte[] b = steppedAdamWBytes();
    ParameterLayout other = GptModel.layout(new ModelConfig(8, 4, 4, 2, 2, 0.0));
    IOException e = assertThrows(IOException.class,
        () -> OptimizerStateReader.read(new ByteArrayInputStream(b), other));
    assertTrue(e.getMessage().contains("300") && e.getMessage().contains(String.valueOf(other.totalElements())),
        e.getMessage());
  }

  /** Steps {@code original} 3 times, saves, reloads, then steps both once more from equal inputs. */
  private void assertContinuesIdentically(Optimizer original, ParameterLayout layout, boolean viaFile)
      throws IOException {
    long n = layout.totalElements();
    INDArray params = OptimTestData.gaussian(n, 1, 0.02);
    for (int t = 0; t < 3; t++) {
      original.step(params, OptimTestData.gaussian(n, 50 + t, 0.01), 1e-3 * (t + 1));
    }
    Optimizer reloaded;
    if (viaFile) {
      Path file = dir.resolve("opt.state");
      OptimizerStateWriter.write(original, file);
      reloaded = OptimizerStateReader.read(file, layout);
    } else {
      reloaded = OptimizerStateReader.read(new ByteArrayInputStream(bytes(original)), layout);
    }
    try (reloaded) {
      assertEquals(original.getClass(), reloaded.getClass());
      assertEquals(3, reloaded.stepCount());
      INDArray paramsCopy = params.dup();
      INDArray grads = OptimTestData.gaussian(n, 99, 0.01);
      original.step(params, grads, 2e-3);
      reloaded.step(paramsCopy, grads, 2e-3);
      assertEquals(-1, OptimTestData.firstBitDifference(params, paramsCopy), "first differing parameter");
      assertEquals(4, reloaded.stepCount());
    }
  }

  private static byte[] bytes(Optimizer optimizer) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OptimizerStateWriter.write(optimizer, out);
    return out.toByteArray();
  }

  private static byte[] steppedAdamWBytes() throws IOException {
    ParameterLayout layout = OptimTestData.tinyLayout();
    try (AdamW adamW = new AdamW(layout)) {
      adamW.step(OptimTestData.gaussian(300, 1, 1.0), OptimTestData.gaussian(300, 2, 1.0));
      return bytes(adamW);
    }
  }

  private static Optimizer read(byte[] b) throws IOException {
    return OptimizerStateReader.read(new ByteArrayInputStream(b), OptimTestData.tinyLayout());
  }
}
