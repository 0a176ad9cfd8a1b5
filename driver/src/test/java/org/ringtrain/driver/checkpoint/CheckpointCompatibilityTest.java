/*
 * Checkpoints written by earlier versions of ringtrain still load: a real checkpoint of a tiny GPT
 * (written by the format-1 code with the flat 37-setting train config, kept in the test
 * resources, 38 KB) is verified, read and turned into a working model. Test code only.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.TrainedGpt;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CheckpointCompatibilityTest {

  private static final String RUN = "v1-gpt-run/step-000000002/";
  private static final String[] FILES = {"MANIFEST.json", "model.safetensors", "optimizer.bin", "state.json"};

  @Test
  void aFormatOneGptCheckpointLoadsWithItsConfigAndWeights(@TempDir Path dir) throws IOException {
    Path step = Files.createDirectories(dir.resolve("step-000000002"));
    for (String f : FILES) {
      try (InputStream in = getClass().getResourceAsStream(RUN + f)) {
        Files.copy(in, step.resolve(f));
      }
    }
    TrainedGpt gpt = TrainedGpt.load(dir.toUri().toString(), HadoopSettings.defaults());
    assertEquals(2, gpt.step());
    assertEquals("byte", gpt.tokenizer().id());
    assertEquals(8, gpt.modelConfig().dModel());
    assertEquals(1, gpt.modelConfig().layers());
    assertEquals(2, gpt.modelConfig().heads());
    assertEquals(8, gpt.modelConfig().contextLength());
    // The first values of h.0.attn.c_attn.weight as the file holds them (read with Python's struct).
    float[] w = gpt.weights();
    int qkv = 256 * 8 + 8 * 8 + 2 * 8; // after wte, wpe and ln_1
    assertEquals(FIRST_QKV[0], w[qkv], 0f);
    assertEquals(FIRST_QKV[3], w[qkv + 3], 0f);
    String text = gpt.generate("The", 5, 1.0, 0, 7);
    assertTrue(text.startsWith("The") && text.length() > 3, text);
  }

  private static final float[] FIRST_QKV = {0.0036680414f, -0.015482682f, 0.0049309437f, -0.010375181f};
}
