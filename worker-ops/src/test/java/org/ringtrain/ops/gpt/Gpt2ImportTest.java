/*
 * Tests of Gpt2Import on files written here in Hugging Face GPT-2 form (bare and prefixed names,
 * attention buffers, a tied lm_head, with and without config.json) and on the faults it must
 * refuse: another shape, an untied head, another activation, a truncated file. Test code only.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.io.SafetensorsException;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;

class Gpt2ImportTest {

  private static final ModelConfig CONFIG = new ModelConfig(32, 8, 16, 2, 2, 0);

  @TempDir
  Path dir;

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /**
   * Writes {@code source}'s weights as transformers does: names with {@code prefix}, each block's
   * {@code attn.bias} (and {@code attn.masked_bias}) buffer, and {@code lm_head.weight} equal to wte
   * unless {@code untie}.
   */
  static void writeHuggingFace(GptModel source, String prefix, boolean withHead, boolean untie, Path file)
      throws IOException {
    ModelConfig c = source.config();
    ParameterLayout.Builder b = ParameterLayout.builder("hf gpt2");
    for (TensorSpec t : source.layout().tensors()) {
      b.add(prefix + t.name(), t.shape());
    }
    for (int l = 0; l < c.layers(); l++) {
      b.add(prefix + "h." + l + ".attn.bias", 1, 1, c.contextLength(), c.contextLength());
      b.add(prefix + "h." + l + ".attn.masked_bias", 1);
    }
    if (withHead) {
      b.add("lm_head.weight", c.vocabSize(), c.dModel());
    }
    ParameterLayout hf = b.build();
    try (ParameterBuffer buf = ParameterBuffer.zeros(hf)) {
      for (TensorSpec t : source.layout().tensors()) {
        buf.view(prefix + t.name()).assign(source.params().view(t.name()));
      }
      for (int l = 0; l < c.layers(); l++) {
        buf.view(prefix + "h." + l + ".attn.bias").assign(1); // the mask buffer: not a parameter
        buf.view(prefix + "h." + l + ".attn.masked_bias").assign(-1e4);
      }
      if (withHead) {
        INDArray head = buf.view("lm_head.weight");
        head.assign(source.params().view("wte.weight"));
        if (untie) {
          head.putScalar(new long[] {3, 5}, head.getFloat(3, 5) + 0.5f);
        }
      }
      new SafetensorsWriter(hf).write(buf.flat(), Map.of("format", "pt"), file);
    }
  }

  static void writeConfigJson(Path dir, ModelConfig c, String activation) throws IOException {
    Files.writeString(dir.resolve(Gpt2Import.CONFIG_FILE), "{\"architectures\":[\"GPT2LMHeadModel\"],"
        + "\"activation_function\":\"" + activation + "\",\"vocab_size\":" + c.vocabSize() + ",\"n_positions\":"
        + c.contextLength() + ",\"n_embd\":" + c.dModel() + ",\"n_layer\":" + c.layers() + ",\"n_head\":"
        + c.heads() + ",\"n_ctx\":" + c.contextLength() + ",\"model_type\":\"gpt2\"}");
  }

  /** Writes the GPT of {@code seed} in Hugging Face form to dir/model.safetensors; see {@link #writeHuggingFace}. */
  private Path written(long seed, String prefix, boolean withHead, boolean untie) throws IOException {
    Path file = dir.resolve("model.safetensors");
    try (GptModel source = GptModel.initialised(CONFIG, seed)) {
      writeHuggingFace(source, prefix, withHead, untie, file);
    }
    return file;
  }

  private static void assertSameModel(GptModel expected, GptModel actual) {
    assertEquals(expected.params().flat(), actual.params().flat());
    int[] in = GptModelTest.randomTokens(1, 2 * 8, CONFIG.vocabSize());
    int[] tg = GptModelTest.randomTokens(2, 2 * 8, CONFIG.vocabSize());
    assertEquals(expected.forward(in, tg, 2, 8), actual.forward(in, tg, 2, 8), 0.0);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void loadsPrefixedNamesWithBuffersAndTiedHeadAndConfigJson() throws IOException {
    try (GptModel source = GptModel.initialised(CONFIG, 7)) {
      Path file = dir.resolve("model.safetensors");
      writeHuggingFace(source, "transformer.", true, false, file);
      writeConfigJson(dir, CONFIG, "gelu_new");
      assertEquals(dir.resolve("config.json").toString(), Gpt2Import.shape(file).source());
      try (GptModel loaded = Gpt2Import.model(file, CONFIG)) {
        assertSameModel(source, loaded);
      }
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void loadsBareNamesWithoutConfigJsonFromTensorShapes() throws IOException {
    try (GptModel source = GptModel.initialised(CONFIG, 8)) {
      Path file = dir.resolve("gpt2.safetensors");
      writeHuggingFace(source, "", false, false, file);
      Gpt2Import.Shape shape = Gpt2Import.shape(file);
      assertEquals(new Gpt2Import.Shape(32, 8, 16, 2, 0, "tensor shapes"), shape);
      try (GptModel loaded = Gpt2Import.model(file, CONFIG)) {
        assertSameModel(source, loaded);
      }
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void loadsRingtrainsOwnModelFileWithItsMetadataShape() throws IOException {
    try (GptModel source = GptModel.initialised(CONFIG, 9)) {
      Path file = dir.resolve("own.safetensors");
      new SafetensorsWriter(source.layout()).write(source.params().flat(), Map.of(), file);
      assertEquals(CONFIG.heads(), Gpt2Import.shape(file).heads());
      try (GptModel loaded = Gpt2Import.model(file, CONFIG)) {
        assertSameModel(source, loaded);
      }
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void refusesAnotherShapeNamingEachMismatch() throws IOException {
    Path file = written(7, "transformer.", true, false);
    writeConfigJson(dir, CONFIG, "gelu_new");
    ModelConfig run = new ModelConfig(32, 8, 24, 3, 2, 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gpt2Import.model(file, run));
    assertTrue(e.getMessage().contains("n_embd 16 in the file, dModel 24 in the run"), e.getMessage());
    assertTrue(e.getMessage().contains("n_layer 2 in the file, layers 3 in the run"), e.getMessage());
    assertTrue(!e.getMessage().contains("n_head"), e.getMessage());
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void refusesAnUntiedHead() throws IOException {
    Path file = written(7, "transformer.", true, true);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gpt2Import.model(file, CONFIG));
    assertTrue(e.getMessage().contains("untied LM head") && e.getMessage().contains("element 53"), e.getMessage());
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void refusesAnotherActivation() throws IOException {
    Path file = written(7, "", true, false);
    writeConfigJson(dir, CONFIG, "relu");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gpt2Import.shape(file));
    assertTrue(e.getMessage().contains("activation_function must be \"gelu_new\""), e.getMessage());
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void refusesATruncatedFileBeforeWritingAWeight() throws IOException {
    Path file = written(7, "transformer.", true, false);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 100);
    }
    try (GptModel target = new GptModel(CONFIG, DataType.FLOAT)) {
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> Gpt2Import.load(file, CONFIG, target.params()));
      assertTrue(e.getMessage().contains("is truncated"), e.getMessage());
      assertEquals(0.0, target.params().flat().amaxNumber().doubleValue(), 0.0);
    }
  }
}
