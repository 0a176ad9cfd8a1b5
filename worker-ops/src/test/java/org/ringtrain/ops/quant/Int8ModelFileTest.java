/*
 * Tests of Int8ModelFile and Int8GptWeights: a quantised model's logits and loss against the
 * float model's, within stated tolerances; the file's layout and size; and malformed files
 * refused (wrong dtype, missing or misshapen scales, wrong shapes, truncation, a float file, an
 * int8 file given to the float checkpoint reader). Test code only.
 */
package org.ringtrain.ops.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Random;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.SingleThreadedNd4j;
import org.ringtrain.ops.gpt.Generator;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.io.SafetensorsException;
import org.ringtrain.ops.io.SafetensorsReader;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.io.TensorFile;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Int8ModelFileTest {

  private static final ModelConfig CONFIG = new ModelConfig(64, 16, 64, 2, 4, 0);
  /**
   * Logits: max |int8 - float| at most 3% of max |float logit| on this random model (measured
   * 2.3%), 5% with the embeddings quantised too (measured 3.4%).
   */
  private static final double LOGIT_TOLERANCE = 0.03;
  private static final double LOGIT_TOLERANCE_EMBEDDINGS = 0.05;
  /** Mean loss: int8 within 1% of float (measured 0.2%). */
  private static final double LOSS_TOLERANCE = 0.01;

  private static GptModel model;

  @BeforeAll
  static void model() {
    SingleThreadedNd4j.apply();
    model = GptModel.initialised(CONFIG, 7);
    // Weights 3x GPT-2's init, so the logits are far from uniform and quantisation error shows.
    model.params().flat().muli(3);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static int[] randomTokens(long seed, int n, int vocab) {
    Random r = new Random(seed);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = r.nextInt(vocab);
    }
    return out;
  }

  private static byte[] file(boolean embeddings) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Int8ModelFile.write(CONFIG, model.params(), embeddings, Map.of("test.key", "v"), out);
    return out.toByteArray();
  }

  private static Int8GptWeights load(byte[] bytes) throws IOException {
    TensorFile.Contents c = Int8ModelFile.read(new ByteArrayInputStream(bytes), bytes.length, "test.safetensors");
    return Int8ModelFile.weights(CONFIG, c, "test.safetensors");
  }

  @Test
  void quantisedLogitsAndLossAreWithinToleranceOfTheFloatModel() throws IOException {
    int b = 2;
    int t = 8;
    int[] inputs = randomTokens(5, b * t, CONFIG.vocabSize());
    int[] targets = randomTokens(6, b * t, CONFIG.vocabSize());
    double floatLoss = model.forward(inputs, targets, b, t);
    model.forward(inputs, null, b, t);
    INDArray full = model.logits().reshape(b, t, CONFIG.vocabSize()).dup();
    double scale = full.amaxNumber().doubleValue();
    for (boolean embeddings : new boolean[] {false, true}) {
      try (Int8GptWeights w = load(file(embeddings)); Generator g = new Generator(w, b)) {
        double worst = 0;
        for (int pos = 0; pos < t; pos++) {
          INDArray step = g.step(new int[] {inputs[pos], inputs[t + pos]});
          worst = Math.max(worst, step.sub(full.get(NDArrayIndex.all(), NDArrayIndex.point(pos), NDArrayIndex.all()))
              .amaxNumber().doubleValue());
        }
        double tolerance = embeddings ? LOGIT_TOLERANCE_EMBEDDINGS : LOGIT_TOLERANCE;
        assertTrue(worst <= tolerance * scale, "embeddings " + embeddings + ": max |int8 - float logit| = "
            + worst + " > " + tolerance + " x max |logit| " + scale);
        double int8Loss = g.lossSum(inputs, targets, t) / (b * t);
        assertEquals(floatLoss, int8Loss, LOSS_TOLERANCE * floatLoss, "embeddings " + embeddings + ": mean loss");
      }
    }
  }

  /** A float model holding the dequantised weights of {@code w} (tests only: inference never builds one). */
  private static GptModel dequantised(Int8GptWeights w) {
    GptModel m = new GptModel(CONFIG, DataType.FLOAT);
    for (org.ringtrain.ops.param.ParameterLayout.TensorSpec t : m.layout().tensors()) {
      Int8Matrix q = w.matrix(t.name());
      float[] v = q == null ? w.floats(t.name()) : q.dequantize();
      m.params().view(t.name()).assign(org.nd4j.linalg.factory.Nd4j.createFromArray(v).reshape(t.shape()));
    }
    return m;
  }

  @Test
  void theInt8ModelComputesTheFloatModelOfItsDequantisedWeights() throws IOException {
    int b = 2;
    int t = 8;
    int[] inputs = randomTokens(15, b * t, CONFIG.vocabSize());
    for (boolean embeddings : new boolean[] {false, true}) {
      try (Int8GptWeights w = load(file(embeddings)); GptModel deq = dequantised(w); Generator g = new Generator(w, b)) {
        deq.forward(inputs, null, b, t);
        INDArray full = deq.logits().reshape(b, t, CONFIG.vocabSize());
        double scale = full.amaxNumber().doubleValue();
        double worst = 0;
        for (int pos = 0; pos < t; pos++) {
          INDArray step = g.step(new int[] {inputs[pos], inputs[t + pos]});
          worst = Math.max(worst, step.sub(full.get(NDArrayIndex.all(), NDArrayIndex.point(pos), NDArrayIndex.all()))
              .amaxNumber().doubleValue());
        }
        assertTrue(worst <= 1e-4 * Math.max(1, scale), "embeddings " + embeddings + ": max |int8 - deq float| = "
            + worst + " (max |logit| " + scale + ")");
      }
    }
  }

  @Test
  void decodedLossOfTheFloatWeightsEqualsTheFullForwardLoss() {
    int b = 3;
    int t = 9;
    int[] inputs = randomTokens(8, b * t, CONFIG.vocabSize());
    int[] targets = randomTokens(9, b * t, CONFIG.vocabSize());
    double expected = model.forward(inputs, targets, b, t);
    try (Generator g = new Generator(model, b)) {
      assertEquals(expected, g.lossSum(inputs, targets, t) / (b * t), 1e-5 * expected);
    }
  }

  @Test
  void theFileKeepsTheFloatNamesAddsScalesAndNamesTheScheme() throws IOException {
    byte[] plain = file(false);
    TensorFile.Contents c = Int8ModelFile.read(new ByteArrayInputStream(plain), plain.length, "f");
    assertEquals(Int8ModelFile.SCHEME, c.metadata().get(TensorFile.QUANTIZATION_KEY));
    assertEquals("v", c.metadata().get("test.key"));
    assertEquals("I8", c.tensors().get("h.1.mlp.c_fc.weight").dtype());
    assertTrue(Arrays.equals(new long[] {4L * 64}, c.tensors().get("h.1.mlp.c_fc.weight.scale").shape()));
    assertEquals("F32", c.tensors().get("h.1.mlp.c_fc.bias").dtype());
    assertEquals("F32", c.tensors().get("wte.weight").dtype());
    byte[] withEmbeddings = file(true);
    TensorFile.Contents e = Int8ModelFile.read(new ByteArrayInputStream(withEmbeddings), withEmbeddings.length, "f");
    assertEquals("I8", e.tensors().get("wte.weight").dtype());
    assertTrue(Arrays.equals(new long[] {64}, e.tensors().get("wte.weight.scale").shape()));
    long floatBytes = GptModel.layout(CONFIG).totalElements() * 4L;
    assertTrue(withEmbeddings.length < plain.length && plain.length < 0.4 * floatBytes,
        "sizes: int8 " + plain.length + ", with embeddings " + withEmbeddings.length + ", float data " + floatBytes);
  }

  /** Rewrites a valid file with {@code change} applied to its tensors and returns the refusal. */
  private static SafetensorsException refusal(Consumer<Map<String, TensorFile.Tensor>> change) throws IOException {
    byte[] valid = file(false);
    TensorFile.Contents c = Int8ModelFile.read(new ByteArrayInputStream(valid), valid.length, "f");
    Map<String, TensorFile.Tensor> tensors = new LinkedHashMap<>(c.tensors());
    change.accept(tensors);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TensorFile.write(tensors, c.metadata(), out);
    return assertThrows(SafetensorsException.class, () -> load(out.toByteArray()));
  }

  @Test
  void aWrongDtypeIsRefused() throws IOException {
    String name = "h.0.attn.c_attn.weight";
    SafetensorsException e = refusal(t -> t.put(name, TensorFile.Tensor.f32(t.get(name).shape(),
        new float[(int) t.get(name).elements()])));
    assertTrue(e.getMessage().contains("tensor '" + name + "' is F32[64, 192], expected I8[64, 192]"), e.getMessage());
  }

  @Test
  void aMissingOrMisshapenScaleIsRefused() throws IOException {
    String name = "h.1.attn.c_proj.weight";
    SafetensorsException missing = refusal(t -> t.remove(name + ".scale"));
    assertTrue(missing.getMessage().contains("needs its scales '" + name + ".scale' as F32[64]")
        && missing.getMessage().contains("found none"), missing.getMessage());
    SafetensorsException shape = refusal(t -> t.put(name + ".scale", TensorFile.Tensor.f32(new long[] {63},
        new float[63])));
    assertTrue(shape.getMessage().contains("but found F32[63]"), shape.getMessage());
    SafetensorsException negative = refusal(t -> {
      float[] s = new float[64];
      s[3] = -1f;
      t.put(name + ".scale", TensorFile.Tensor.f32(new long[] {64}, s));
    });
    assertTrue(negative.getMessage().contains("scale 3 of '" + name + "' is -1.0"), negative.getMessage());
  }

  @Test
  void aWrongShapeOrAnUnknownTensorIsRefused() throws IOException {
    SafetensorsException shape = refusal(t -> t.put("h.0.mlp.c_fc.weight", TensorFile.Tensor.i8(new long[] {256, 64},
        new byte[256 * 64])));
    assertTrue(shape.getMessage().contains("is I8[256, 64], expected I8[64, 256]"), shape.getMessage());
    SafetensorsException extra = refusal(t -> t.put("h.9.extra", TensorFile.Tensor.f32(new long[] {1}, new float[1])));
    assertTrue(extra.getMessage().contains("unknown tensor 'h.9.extra'"), extra.getMessage());
  }

  @Test
  void aTruncatedFileIsRefusedBeforeItsDataIsRead() throws IOException {
    byte[] valid = file(false);
    byte[] cut = Arrays.copyOf(valid, valid.length - 100);
    SafetensorsException e = assertThrows(SafetensorsException.class,
        () -> Int8ModelFile.read(new ByteArrayInputStream(cut), cut.length, "cut.safetensors"));
    assertTrue(e.getMessage().contains("cut.safetensors is truncated: expected " + valid.length + " bytes"),
        e.getMessage());
    SafetensorsException unknownSize = assertThrows(SafetensorsException.class,
        () -> Int8ModelFile.read(new ByteArrayInputStream(cut), -1, "stream"));
    assertTrue(unknownSize.getMessage().contains("stream is truncated"), unknownSize.getMessage());
  }

  @Test
  void aFloatCheckpointIsNotAnInt8ModelAndAnInt8ModelIsNotACheckpoint() throws IOException {
    ByteArrayOutputStream floats = new ByteArrayOutputStream();
    new SafetensorsWriter(GptModel.layout(CONFIG)).write(model.params().flat(), Map.of(), floats);
    SafetensorsException notInt8 = assertThrows(SafetensorsException.class, () -> Int8ModelFile.read(
        new ByteArrayInputStream(floats.toByteArray()), floats.size(), "model.safetensors"));
    assertTrue(notInt8.getMessage().contains("expected metadata ringtrain.quantization=" + Int8ModelFile.SCHEME
        + ", found none"), notInt8.getMessage());
    byte[] int8 = file(false);
    try (GptModel target = new GptModel(CONFIG, DataType.FLOAT)) {
      SafetensorsException notFloat = assertThrows(SafetensorsException.class, () -> new SafetensorsReader(
          GptModel.layout(CONFIG), true).read(new ByteArrayInputStream(int8), target.params().flat()));
      assertTrue(notFloat.getMessage().contains("is an int8 quantised model")
          && notFloat.getMessage().contains("cannot be trained from"), notFloat.getMessage());
    }
  }
}
