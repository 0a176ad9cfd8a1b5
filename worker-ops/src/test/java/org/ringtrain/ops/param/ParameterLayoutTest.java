/*
 * Tests of ParameterLayout: GPT-2 names and shapes, buffer order, decay flags, lookup errors. Test code only.
 */
package org.ringtrain.ops.param;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ParameterLayoutTest {

  @Test
  void smallHasTheExpectedParameterCount() {
    // 2 embeddings of 256 x 384, 6 blocks of 12 C^2 + 13 C, final LayerNorm 2 C.
    long c = 384;
    long expected = 2 * 256 * c + 6 * (12 * c * c + 13 * c) + 2 * c;
    assertEquals(expected, GptModel.layout(ModelConfig.small()).totalElements());
    assertEquals(10_844_160L, expected);
  }

  @Test
  void orderIsEmbeddingsThenBlocksThenFinalNormWithDenseOffsets() {
    ParameterLayout layout = GptModel.layout(new ModelConfig(10, 8, 4, 2, 2, 0));
    List<ParameterLayout.TensorSpec> t = layout.tensors();
    assertEquals(2 + 2 * 12 + 2, t.size());
    assertEquals("wte.weight", t.get(0).name());
    assertEquals("wpe.weight", t.get(1).name());
    assertEquals("h.0.ln_1.weight", t.get(2).name());
    assertEquals("h.0.attn.c_attn.weight", t.get(4).name());
    assertEquals("h.1.mlp.c_proj.bias", t.get(t.size() - 3).name());
    assertEquals("ln_f.weight", t.get(t.size() - 2).name());
    assertEquals("ln_f.bias", t.get(t.size() - 1).name());
    long offset = 0;
    for (ParameterLayout.TensorSpec spec : t) {
      assertEquals(offset, spec.offset(), spec.name());
      offset += spec.length();
    }
    assertEquals(offset, layout.totalElements());
  }

  @Test
  void shapesFollowGpt2ConvLayoutInOut() {
    ParameterLayout layout = GptModel.layout(new ModelConfig(10, 8, 4, 2, 2, 0));
    assertArrayEquals(new long[] {10, 4}, layout.get("wte.weight").shape());
    assertArrayEquals(new long[] {8, 4}, layout.get("wpe.weight").shape());
    assertArrayEquals(new long[] {4, 12}, layout.get("h.1.attn.c_attn.weight").shape());
    assertArrayEquals(new long[] {12}, layout.get("h.1.attn.c_attn.bias").shape());
    assertArrayEquals(new long[] {4, 4}, layout.get("h.0.attn.c_proj.weight").shape());
    assertArrayEquals(new long[] {4, 16}, layout.get("h.0.mlp.c_fc.weight").shape());
    assertArrayEquals(new long[] {16, 4}, layout.get("h.0.mlp.c_proj.weight").shape());
    assertArrayEquals(new long[] {4}, layout.get("ln_f.bias").shape());
  }

  @Test
  void decayAppliesExactlyToMatrices() {
    ParameterLayout layout = GptModel.layout(new ModelConfig(10, 8, 4, 2, 2, 0));
    for (ParameterLayout.TensorSpec t : layout.tensors()) {
      boolean matrix = t.name().endsWith("wte.weight") || t.name().endsWith("wpe.weight")
          || (t.name().endsWith(".weight") && !t.name().contains("ln_"));
      assertEquals(matrix, t.decays(), t.name());
    }
    assertFalse(layout.get("h.0.ln_1.weight").decays());
  }

  @Test
  void unknownNameIsRejectedNamingIt() {
    ParameterLayout layout = GptModel.layout(ModelConfig.tiny());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layout.get("h.9.ln_1.weight"));
    assertTrue(e.getMessage().contains("'h.9.ln_1.weight'"), e.getMessage());
  }

  @Test
  void blocksTileTheMiddleOfTheGptBufferAndItsDescriptionCarriesTheConfig() {
    ParameterLayout layout = GptModel.layout(ModelConfig.tiny());
    long blockLength = layout.get("h.1.ln_1.weight").offset() - layout.get("h.0.ln_1.weight").offset();
    assertEquals(12L * 128 * 128 + 13L * 128, blockLength, "12 C^2 + 13 C elements per block");
    assertEquals(layout.get("h.0.ln_1.weight").offset() + 4 * blockLength, layout.get("ln_f.weight").offset());
    assertEquals(ModelConfig.tiny().toHuggingFaceJson(), layout.description().get("ringtrain.model_config"));
  }

  @Test
  void tensorSpecShapeIsDefensivelyCopied() {
    ParameterLayout layout = GptModel.layout(ModelConfig.tiny());
    layout.get("wte.weight").shape()[0] = 1;
    assertArrayEquals(new long[] {256, 128}, layout.get("wte.weight").shape());
  }

  @Test
  void aBuiltLayoutIsDenseInInsertionOrderAndDescribedOnlyByItsKind() {
    ParameterLayout layout = ParameterLayout.builder("toy classifier")
        .add("embed.weight", 10, 4).add("head.weight", 4, 3).add("head.bias", 3).build();
    assertEquals(40 + 12 + 3, layout.totalElements());
    assertEquals(40, layout.get("head.weight").offset());
    assertEquals(52, layout.get("head.bias").offset());
    assertTrue(layout.get("head.weight").decays());
    assertFalse(layout.get("head.bias").decays());
    assertEquals("toy classifier", layout.kind());
    assertTrue(layout.description().isEmpty());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> layout.get("wte.weight"));
    assertTrue(missing.getMessage().contains("head.bias"), missing.getMessage());
  }

  @Test
  void aBuilderRejectsDuplicateNamesAndEmptyLayouts() {
    ParameterLayout.Builder b = ParameterLayout.builder("dup").add("a", 2);
    assertThrows(IllegalArgumentException.class, () -> b.add("a", 3));
    assertThrows(IllegalStateException.class, () -> ParameterLayout.builder("empty").build());
    assertThrows(IllegalArgumentException.class, () -> ParameterLayout.builder(" "));
  }
}
