// LIME explanations of a real (small, trained) Transformer classifier, with no
// Spark: a model that learnt that one word decides the label must get that word
// ranked first, the same seed must give the same explanation, and the surrogate's
// pieces (the perturbations, the kernel, the weighted ridge solve) are checked
// against closed forms. Test code only.
package org.ringtrain.driver.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.ops.classify.ClassifierConfig;
import org.ringtrain.ops.classify.SequenceClassifier;
import org.ringtrain.ops.optim.AdamW;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LimeTest {
  private static final int MAX_LEN = 8;
  private static final List<String> FILLERS = List.of("the", "menu", "was", "quite", "table", "staff", "our", "and",
      "view", "night");
  private static TextClassificationModel model;

  /**
   * Trains a 1-block Transformer on rows of 2 to 5 filler words plus "good" (label 1) or "bad"
   * (label 0) at a random place: only that one word decides the label.
   */
  @BeforeAll
  static void trainOneWordModel() {
    List<String> words = new ArrayList<>(FILLERS);
    words.add("good");
    words.add("bad");
    Vocabulary vocab = Vocabulary.of(words);
    ClassifierConfig spec = new ClassifierConfig(ClassifierConfig.Architecture.TRANSFORMER, vocab.size(), MAX_LEN,
        16, 1, 2, 2);
    int batch = 32;
    SplittableRandom rng = new SplittableRandom(5);
    try (SequenceClassifier m = SequenceClassifier.initialised(spec, 3);
         AdamW adam = new AdamW(m.layout(), AdamW.Config.defaults().withLr(1e-2).withWeightDecay(0))) {
      int[] tokens = new int[batch * MAX_LEN];
      int[] labels = new int[batch];
      double loss = Double.NaN;
      for (int step = 0; step < 150; step++) {
        for (int b = 0; b < batch; b++) {
          labels[b] = rng.nextInt(2);
          List<String> row = new ArrayList<>();
          int fillers = 2 + rng.nextInt(4);
          for (int i = 0; i < fillers; i++) {
            row.add(FILLERS.get(rng.nextInt(FILLERS.size())));
          }
          row.add(rng.nextInt(row.size() + 1), labels[b] == 1 ? "good" : "bad");
          vocab.encode(row, MAX_LEN, tokens, b * MAX_LEN);
        }
        loss = m.forward(tokens, labels, batch);
        m.zeroGrad();
        m.backward(null);
        adam.step(m.params().flat(), m.grads().flat(), 1e-2);
      }
      assertTrue(loss < 0.05, "the one-word task is learnt: final loss " + loss);
      model = new TextClassificationModel("lime-test", spec, vocab, m.params().flat().toFloatVector(), loss);
    }
  }

  @Test
  void theWordThatDecidesTheLabelIsRankedFirst() {
    for (List<String> text : List.of(List.of("the", "staff", "was", "good", "and", "quite"),
        List.of("view", "bad", "night", "menu"))) {
      Explanation e = model.explain(text, ExplanationMethod.lime(300, 11));
      String decisive = text.contains("good") ? "good" : "bad";
      assertEquals(decisive.equals("good") ? 1 : 0, e.prediction(), text.toString());
      assertEquals(model.predictProbabilities(text)[e.prediction()], e.probability(), 1e-6);
      assertEquals(text.size(), e.tokens().size());
      // Fillers may weigh something too: the model never saw a row without good or bad, and
      // LIME's copies without the decisive word are such rows. The decisive word comes first.
      TokenWeight first = e.towards(1).get(0);
      assertEquals(decisive, first.token(), "LIME's top word for " + text + ": " + e.tokens());
      for (TokenWeight w : e.tokens()) {
        assertTrue(w.token().equals(decisive) || Math.abs(w.weight()) < first.weight(), e.tokens().toString());
      }
    }
  }

  @Test
  void theSameSeedGivesTheSameExplanation() {
    List<String> text = List.of("our", "good", "table", "night", "was");
    Explanation a = model.explain(text, ExplanationMethod.lime(200, 7));
    Explanation b = model.explain(text, ExplanationMethod.lime(200, 7));
    Explanation other = model.explain(text, ExplanationMethod.lime(200, 8));
    assertEquals(a, b, "the same seed, the same weights bit for bit");
    assertNotEquals(a.tokens(), other.tokens(), "another seed draws other perturbations");
    assertEquals("good", other.towards(1).get(0).token());
    Explanation viaParams = model.copy(org.apache.spark.ml.param.ParamMap.empty()).setExplainMethod("LIME")
        .setExplainSamples(200).setExplainSeed(7).explain(text);
    assertEquals(a, viaParams, "the params select the same method, samples and seed");
    assertEquals(ExplanationMethod.OCCLUSION, model.explanationMethod().name(), "occlusion stays the default");
  }

  @Test
  void perturbationsKeepTheRowFirstAndDropAtLeastOneTokenElsewhere() {
    boolean[][] kept = Lime.perturbations(5, 400, 3);
    assertArrayEquals(new boolean[] {true, true, true, true, true}, kept[0]);
    int[] droppedCounts = new int[6];
    for (int s = 1; s < kept.length; s++) {
      int dropped = 0;
      for (boolean k : kept[s]) {
        dropped += k ? 0 : 1;
      }
      assertTrue(dropped >= 1, "sample " + s + " drops something");
      droppedCounts[dropped]++;
    }
    for (int d = 1; d <= 5; d++) {
      assertTrue(droppedCounts[d] > 40, "every count of dropped tokens is drawn: " + java.util.Arrays.toString(droppedCounts));
    }
    assertEquals(1.0, Lime.kernel(kept[0]), 0.0);
    double d = 100 * (1 - Math.sqrt(2 / 5.0)); // 2 of 5 tokens kept
    assertEquals(Math.sqrt(Math.exp(-d * d / 625)), Lime.kernel(new boolean[] {true, false, false, true, false}),
        1e-15);
  }

  @Test
  void theWeightedRidgeSolveMatchesTheNormalEquations() {
    // y = 0.5 + 2 x0 - 1 x1 exactly, so with a tiny penalty the coefficients come back.
    boolean[][] x = {{true, true}, {true, false}, {false, true}, {false, false}, {true, true}};
    double[] y = new double[x.length];
    double[] w = {1, 0.5, 0.25, 2, 1};
    for (int s = 0; s < x.length; s++) {
      y[s] = 0.5 + (x[s][0] ? 2 : 0) - (x[s][1] ? 1 : 0);
    }
    assertArrayEquals(new double[] {2, -1}, Lime.weightedRidge(x, y, w, 1e-9), 1e-6);
    // One feature, closed form: b = sum w (x - xm)(y - ym) / (sum w (x - xm)^2 + alpha).
    boolean[][] one = {{true}, {false}, {true}};
    double[] y1 = {1, 0, 0.5};
    double[] w1 = {1, 1, 2};
    double xm = 3 / 4.0;
    double ym = (1 + 0 + 1) / 4.0;
    double num = (1 - xm) * (1 - ym) + (0 - xm) * (0 - ym) + 2 * (1 - xm) * (0.5 - ym);
    double den = (1 - xm) * (1 - xm) + xm * xm + 2 * (1 - xm) * (1 - xm) + 1;
    assertEquals(num / den, Lime.weightedRidge(one, y1, w1, 1)[0], 1e-12);
  }

  @Test
  void badSettingsAreRefusedWithWhatToDo() {
    IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
        () -> new ExplanationMethod("shap", 100, 1));
    assertTrue(name.getMessage().contains("must be 'occlusion' or 'lime', but found 'shap'"), name.getMessage());
    IllegalArgumentException samples = assertThrows(IllegalArgumentException.class, () -> ExplanationMethod.lime(1, 1));
    assertTrue(samples.getMessage().contains("at least 2 samples") && samples.getMessage().contains("found 1"),
        samples.getMessage());
    Explanation empty = model.explain(List.of(), ExplanationMethod.lime(10, 1));
    assertTrue(empty.tokens().isEmpty(), "a row without tokens has nothing to weigh");
  }
}
