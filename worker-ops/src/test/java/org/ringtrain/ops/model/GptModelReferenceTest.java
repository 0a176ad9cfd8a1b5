/*
 * Golden-tensor test of GptModel against an independent NumPy GPT-2. Test code only.
 */
package org.ringtrain.ops.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
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
      try (InputStream raw = GptModelReferenceTest.class.getResourceAsStream("gpt2-reference.bin")) {
        assertNotNull(raw, "test resource gpt2-reference.bin is missing; regenerate it with make_gpt2_reference.py");
        ByteBuffer in = ByteBuffer.wrap(new DataInputStream(raw).readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
        int v = in.getInt();
        int ctx = in.getInt();
        int c = in.getInt();
        int layers = in.getInt();
        int heads = in.getInt();
        int b = in.getInt();
        int t = in.getInt();
        int p = in.getInt();
        double[] params = doubles(in, p);
        int[] inputs = ints(in, b * t);
        int[] targets = ints(in, b * t);
        double loss = in.getDouble();
        double[] logits = doubles(in, b * t * v);
        double[] grads = doubles(in, p);
        return new Golden(new ModelConfig(v, ctx, c, layers, heads, 0), b, t, params, inputs, targets, loss, logits,
            grads);
      }
    }

    private static double[] doubles(ByteBuffer in, int n) {
      double[] out = new double[n];
      in.asDoubleBuffer().get(out);
      in.position(in.position() + 8 * n);
      return out;
    }

    private static int[] ints(ByteBuffer in, int n) {
      int[] out = new int[n];
      in.asIntBuffer().get(out);
      in.position(in.position() + 4 * n);
      return out;
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
      INDArray expectedGrads = Nd4j.createFromArray(g.grads());
      StringBuilder report = new StringBuilder();
      boolean ok = true;
      for (ParameterLayout.TensorSpec t : model.layout().tensors()) {
        INDArray got = model.grads().flat().get(NDArrayIndex.interval(t.offset(),
            t.offset() + t.length()));
        INDArray want = expectedGrads.get(NDArrayIndex.interval(t.offset(),
            t.offset() + t.length()));
        double maxAbs = got.sub(want).amaxNumber().doubleValue();
        double scale = want.amaxNumber().doubleValue();
        // The reference gradients are central differences (h = 1e-6): ~1e-9 truncation and roundoff.
        boolean pass = maxAbs <= 1e-7 + 1e-6 * scale;
        ok &= pass;
        report.append(String.format("%-26s maxAbs=%.2e max|grad|=%.2e %s%n", t.name(), maxAbs, scale,
            pass ? "ok" : "FAIL"));
      }
      assertTrue(ok, "gradients against the NumPy reference (tolerance 1e-7 + 1e-6 * max|grad|):\n" + report);
    }
  }
}
