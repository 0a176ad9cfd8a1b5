/*
 * Golden-tensor test of the Transformer classifier against an independent NumPy implementation,
 * so that the Transformer block it shares with the GPT is checked in its bidirectional form (key
 * padding mask) as GptModelReferenceTest checks it in its causal form. Test code only.
 */
package org.ringtrain.ops.classify;

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
 * Float64 classifier against worker-ops/src/test/python/make_classifier_reference.py: loss, logits
 * and every parameter's gradient, on rows padded to different lengths (so padding masks, the
 * longest-row cut and pooling weights all take part).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransformerClassifierReferenceTest {

  @BeforeAll
  static void singleThreaded() {
    SingleThreadedNd4j.apply();
  }

  @Test
  void lossLogitsAndGradientsMatchTheNumpyReference() throws IOException {
    GoldenFile in = GoldenFile.load(getClass(), "classifier-reference.bin", "make_classifier_reference.py");
    int v = in.nextInt();
    int maxLen = in.nextInt();
    int c = in.nextInt();
    int layers = in.nextInt();
    int heads = in.nextInt();
    int k = in.nextInt();
    int b = in.nextInt();
    int p = in.nextInt();
    double[] params = in.doubles(p);
    int[] tokens = in.ints(b * maxLen);
    int[] labels = in.ints(b);
    double loss = in.nextDouble();
    double[] logits = in.doubles(b * k);
    double[] grads = in.doubles(p);
    ClassifierConfig config = new ClassifierConfig(ClassifierConfig.Architecture.TRANSFORMER, v, maxLen, c, layers,
        heads, k);
    try (TransformerClassifier model = new TransformerClassifier(config, DataType.DOUBLE)) {
      assertEquals(p, model.layout().totalElements(), "parameter count of the reference layout");
      model.params().flat().assign(Nd4j.createFromArray(params));
      assertEquals(loss, model.forward(tokens, labels, b), 1e-12, "loss");
      INDArray expectedLogits = Nd4j.createFromArray(logits).reshape(b, k);
      assertEquals(0.0, model.logits().sub(expectedLogits).amaxNumber().doubleValue(), 1e-12, "max |logit diff|");
      model.backward(null);
      GoldenFile.assertGradientsMatch(model.layout(), model.grads().flat(), grads);
    }
  }
}
