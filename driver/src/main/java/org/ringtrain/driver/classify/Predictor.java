// Inference with a trained classifier's weights, wherever it runs: on the
// executors inside transform() (one per task) and on the driver for explain().
// It owns one SequenceClassifier and feeds it fixed-size batches. The occlusion
// explanation lives here too because it is just more batched inference; LIME's
// (Lime) predicts through it.
package org.ringtrain.driver.classify;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.classify.ClassifierConfig;
import org.ringtrain.ops.classify.SequenceClassifier;

/** Class probabilities for token rows; not thread-safe, close it when done. */
final class Predictor implements AutoCloseable {
  /** Rows per forward pass. */
  static final int BATCH = 64;

  private final ClassifierConfig spec;
  private final Vocabulary vocab;
  private final SequenceClassifier model;
  private final int[] tokens; // [BATCH * maxLen]

  Predictor(ClassifierConfig spec, Vocabulary vocab, float[] weights) {
    this.spec = spec;
    this.vocab = vocab;
    this.model = SequenceClassifier.create(spec, DataType.FLOAT);
    model.params().flat().assign(Nd4j.createFromArray(weights));
    this.tokens = new int[BATCH * spec.maxLen()];
  }

  /** Probabilities [rows.size()][K] of token rows; a null or empty row is read as one unknown token. */
  float[][] predict(List<List<String>> rows) {
    int maxLen = spec.maxLen();
    float[][] out = new float[rows.size()][];
    for (int start = 0; start < rows.size(); start += BATCH) {
      int n = Math.min(BATCH, rows.size() - start);
      for (int i = 0; i < n; i++) {
        List<String> row = rows.get(start + i);
        if (row == null || row.isEmpty()) {
          java.util.Arrays.fill(tokens, i * maxLen, (i + 1) * maxLen, SequenceClassifier.PAD_ID);
          tokens[i * maxLen] = SequenceClassifier.UNK_ID;
        } else {
          vocab.encode(row, maxLen, tokens, i * maxLen);
        }
      }
      model.forward(n == BATCH ? tokens : java.util.Arrays.copyOf(tokens, n * maxLen), null, n);
      INDArray probs = model.probabilities(); // [n, K]
      for (int i = 0; i < n; i++) {
        out[start + i] = probs.getRow(i).toFloatVector();
      }
    }
    return out;
  }

  /**
   * Occlusion: the row's prediction, and for each token the predicted class's log-odds minus its
   * log-odds with that token removed. Log-odds rather than probabilities, because a confident
   * prediction (p = 0.99) hardly moves in probability when one token goes, but clearly in log-odds.
   * Only the first maxLen tokens count (the model sees no more); a one-token row is compared with
   * a row of one unknown token.
   */
  Explanation explain(List<String> row) {
    return explain(row, ExplanationMethod.occlusion());
  }

  /** The explanation of {@code row}'s prediction by {@code method}; only the first maxLen tokens count. */
  Explanation explain(List<String> row, ExplanationMethod method) {
    List<String> seen = row == null ? List.of() : row.subList(0, Math.min(row.size(), spec.maxLen()));
    return method.isLime() ? Lime.explain(this, seen, method.samples(), method.seed()) : occlusion(seen);
  }

  private Explanation occlusion(List<String> seen) {
    List<List<String>> variants = new ArrayList<>(seen.size() + 1);
    variants.add(seen);
    for (int i = 0; i < seen.size(); i++) {
      List<String> without = new ArrayList<>(seen);
      without.remove(i);
      variants.add(without);
    }
    float[][] p = predict(variants);
    int predicted = argmax(p[0]);
    List<TokenWeight> weights = new ArrayList<>(seen.size());
    for (int i = 0; i < seen.size(); i++) {
      weights.add(new TokenWeight(seen.get(i), i, logOdds(p[0][predicted]) - logOdds(p[i + 1][predicted])));
    }
    return new Explanation(predicted, p[0][predicted], weights);
  }

  /** ln(p / (1 - p)), with p kept inside float32's resolution around 0 and 1. */
  static double logOdds(double p) {
    double q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
    return Math.log(q) - Math.log1p(-q);
  }

  static int argmax(float[] p) {
    int best = 0;
    for (int k = 1; k < p.length; k++) {
      if (p[k] > p[best]) {
        best = k;
      }
    }
    return best;
  }

  @Override
  public void close() {
    model.close();
  }
}
