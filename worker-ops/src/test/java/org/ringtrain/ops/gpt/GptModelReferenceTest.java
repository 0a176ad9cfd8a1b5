/*
 * Golden-tensor test of GptModel against an independent NumPy GPT-2. Test code only.
 */
package org.ringtrain.ops.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.GoldenFile;
import org.ringtrain.ops.SingleThreadedNd4j;

/**
 * Compares the Java model in float64 with golden tensors from an independent NumPy implementation
 * of GPT-2 (worker-ops/src/test/python/make_gpt2_reference.py; no PyTorch on these machines). This
 * checks what finite differences cannot: that the blocks are wired as GPT-2's (pre-LayerNorm,
 * residuals, tied head, GELU form, LayerNorm epsilon, attention scale).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GptModelReferenceTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  /** The fixture, as written by make_gpt2_reference.py. */
  private record Golden(ModelConfig config, int batch, int seqLen, double[] params, int[] inputs, int[] targets,
      double loss, double[] logits, double[] grads) {

    static Golden load() throws IOException {
      GoldenFile in = GoldenFile.load(GptModelReferenceTest.class, "gpt2-reference.bin", "make_gpt2_reference.py");
      int v = in.nextInt();
      int ctx = in.nextInt();
      int c = in.nextInt();
      int layers = in.nextInt();
      int heads = in.nextInt();
      int b = in.nextInt();
      int t = in.nextInt();
      int p = in.nextInt();
      double[] params = in.doubles(p);
      int[] inputs = in.ints(b * t);
      int[] targets = in.ints(b * t);
      double loss = in.nextDouble();
      double[] logits = in.doubles(b * t * v);
      double[] grads = in.doubles(p);
      return new Golden(new ModelConfig(v, ctx, c, layers, heads, 0), b, t, params, inputs, targets, loss, logits,
          grads);
    }
  }

  @Test
  void lossLogitsAndGradientsMatchTheNumpyReference() throws IOException {
    Golden g = Golden.load();
    try (GptModel model = new GptModel(g.config(), DataType.DOUBLE)) {
      assertEquals(g.params().length, model.layout().totalElements(), "parameter count of the reference layout");
      model.params().flat().assign(Nd4j.createFromArray(g.params()));
      double loss = model.forward(g.inputs(), g.targets(), g.batch(), g.seqLen());
      assertEquals(g.loss(), loss, 1e-12, "loss");
      INDArray expectedLogits = Nd4j.createFromArray(g.logits()).reshape(model.logits().shape());
      assertEquals(0.0, model.logits().sub(expectedLogits).amaxNumber().doubleValue(), 1e-12, "max |logit diff|");

      model.backward();
      GoldenFile.assertGradientsMatch(model.layout(), model.grads().flat(), g.grads());
    }
  }
}
