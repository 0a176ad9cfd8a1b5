/*
 * Tests of SoftTargets through GptModel, the distillation objective alpha * tau^2 * KL + (1 - alpha) * CE:
 * its gradients against finite differences in float64 with a head in chunks that do not divide
 * B*T, alpha 0 giving the cross-entropy's loss and gradients bit for bit in float32, and a batch
 * whose teacher logits do not match refused. Test code only.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.GradCheck;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.transformer.TransformerTrunk;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SoftTargetsTest {
  private static final ModelConfig CONFIG = new ModelConfig(11, 8, 8, 1, 2, 0);
  private static final int B = 2;
  private static final int T = 8; // B*T = 16 positions

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  private static GptModel model(DataType type) {
    GptModel model = new GptModel(CONFIG, type);
    GptModel.initialise(model.params(), CONFIG.layers(), 23);
    model.params().flat().muli(3); // logits far from uniform
    return model;
  }

  private static INDArray teacherLogits(DataType type) {
    return Nd4j.rand(type, B * T, CONFIG.vocabSize()).muli(4).subi(2);
  }

  @Test
  void distillationGradientsMatchFiniteDifferencesWithAChunkedHead() {
    int batch = 20; // 160 positions: two head chunks of 128 and 32 rows
    int[] inputs = GptModelTest.randomTokens(3, batch * T, CONFIG.vocabSize());
    int[] targets = GptModelTest.randomTokens(4, batch * T, CONFIG.vocabSize());
    targets[5] = -1; // an ignored position counts in neither term
    Nd4j.getRandom().setSeed(7);
    try (GptModel model = model(DataType.DOUBLE); SoftTargets soft = new SoftTargets(0.6, 2.0)) {
      model.setHeadChunkRows(GptModel.HEAD_TILE_ROWS);
      soft.setTeacherLogits(Nd4j.rand(DataType.DOUBLE, batch * T, CONFIG.vocabSize()).muli(4).subi(2));
      model.setSoftTargets(soft);
      model.forward(inputs, targets, batch, T);
      model.backward();
      GradCheck check = new GradCheck();
      for (String name : new String[] {"wte.weight", "wpe.weight", TransformerTrunk.LNF_WEIGHT}) {
        check.check(name, model.params().view(name), model.grads().view(name),
            () -> model.forward(inputs, targets, batch, T), 40);
      }
      assertTrue(check.passed(), check.report());
    }
  }

  @Test
  void theDistillationLossIsTheWeightedSumOfItsTerms() {
    int[] inputs = GptModelTest.randomTokens(3, B * T, CONFIG.vocabSize());
    int[] targets = GptModelTest.randomTokens(4, B * T, CONFIG.vocabSize());
    try (GptModel model = model(DataType.DOUBLE); SoftTargets soft = new SoftTargets(0.25, 1.5);
        SoftTargets onlySoft = new SoftTargets(1.0, 1.5)) {
      INDArray teacher = teacherLogits(DataType.DOUBLE);
      double ce = model.forward(inputs, targets, B, T);
      soft.setTeacherLogits(teacher);
      model.setSoftTargets(soft);
      double mixed = model.forward(inputs, targets, B, T);
      onlySoft.setTeacherLogits(teacher);
      model.setSoftTargets(onlySoft);
      double klTerm = model.forward(inputs, targets, B, T); // tau^2 * KL
      assertEquals(0.75 * ce + 0.25 * klTerm, mixed, 1e-12);
      assertTrue(klTerm > 0, "student and random teacher differ: " + klTerm);
    }
  }

  @Test
  void alphaZeroGivesTheCrossEntropyBitForBit() {
    int[] inputs = GptModelTest.randomTokens(5, B * T, CONFIG.vocabSize());
    int[] targets = GptModelTest.randomTokens(6, B * T, CONFIG.vocabSize());
    try (GptModel plain = model(DataType.FLOAT); GptModel distilled = model(DataType.FLOAT);
        SoftTargets soft = new SoftTargets(0.0, 2.0)) {
      double a = plain.forward(inputs, targets, B, T);
      plain.backward();
      soft.setTeacherLogits(teacherLogits(DataType.FLOAT));
      distilled.setSoftTargets(soft);
      double b = distilled.forward(inputs, targets, B, T);
      distilled.backward();
      assertEquals(Double.doubleToLongBits(a), Double.doubleToLongBits(b), a + " vs " + b);
      assertArrayEquals(plain.grads().flat().toFloatVector(), distilled.grads().flat().toFloatVector());
    }
  }

  @Test
  void teacherLogitsOfOtherRowsAreRefused() {
    int[] inputs = GptModelTest.randomTokens(5, B * T, CONFIG.vocabSize());
    try (GptModel model = model(DataType.FLOAT); SoftTargets soft = new SoftTargets(0.5, 2.0)) {
      soft.setTeacherLogits(Nd4j.zeros(DataType.FLOAT, B * T - 1, CONFIG.vocabSize()));
      model.setSoftTargets(soft);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.forward(inputs, inputs, B, T));
      assertTrue(e.getMessage().contains("15 rows") && e.getMessage().contains("B*T=16"), e.getMessage());
    }
  }

  @Test
  void alphaAndTemperatureOutOfRangeAreRefused() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new SoftTargets(1.5, 2.0)).getMessage()
        .contains("alpha must be in [0, 1], but found 1.5"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new SoftTargets(0.5, 0.0)).getMessage()
        .contains("temperature must be > 0"));
  }
}
