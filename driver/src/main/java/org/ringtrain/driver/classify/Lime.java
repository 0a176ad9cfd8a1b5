// LIME for a text classifier (Ribeiro, Singh, Guestrin: "Why Should I Trust You?",
// KDD 2016, arXiv:1602.04938), as the reference implementation's LimeTextExplainer
// does it: copies of the row with random sets of tokens dropped, predicted in
// batches, weighted by an exponential kernel on their cosine distance to the row,
// and a ridge regression of the predicted class's probability on which tokens each
// copy kept; the coefficients are the tokens' weights. The linear solve is
// Apache Commons Math's Cholesky decomposition. It is not a general LIME (no
// tabular or image data, no feature selection beyond ranking the coefficients).
package org.ringtrain.driver.classify;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;

/** LIME explanations of one row's prediction; stateless. */
final class Lime {

  /** LimeTextExplainer's default kernel width, applied to the cosine distance times 100. */
  static final double KERNEL_WIDTH = 25;

  /** The ridge penalty of the surrogate (scikit-learn's Ridge default, which LIME uses). */
  static final double RIDGE_ALPHA = 1.0;

  private Lime() {
  }

  /**
   * Explains the prediction of {@code seen} (the tokens the model sees): sample 0 is the row itself,
   * every other sample drops between 1 and all of its tokens (how many uniformly, which ones
   * uniformly), all predicted through {@code predictor} in its batches.
   *
   * @return per token (by position) its coefficient in the surrogate of the predicted class's
   *         probability: positive pushed towards the predicted class
   */
  static Explanation explain(Predictor predictor, List<String> seen, int samples, long seed) {
    int n = seen.size();
    if (n == 0) {
      float[] p = predictor.predict(List.of(seen))[0];
      int predicted = Predictor.argmax(p);
      return new Explanation(predicted, p[predicted], List.of());
    }
    boolean[][] kept = perturbations(n, samples, seed);
    List<List<String>> rows = new ArrayList<>(samples);
    for (boolean[] k : kept) {
      List<String> row = new ArrayList<>(n);
      for (int j = 0; j < n; j++) {
        if (k[j]) {
          row.add(seen.get(j));
        }
      }
      rows.add(row);
    }
    float[][] p = predictor.predict(rows); // an empty copy is predicted as one unknown token
    int predicted = Predictor.argmax(p[0]);
    double[] target = new double[samples];
    double[] weight = new double[samples];
    for (int s = 0; s < samples; s++) {
      target[s] = p[s][predicted];
      weight[s] = kernel(kept[s]);
    }
    double[] coef = weightedRidge(kept, target, weight, RIDGE_ALPHA);
    List<TokenWeight> tokens = new ArrayList<>(n);
    for (int j = 0; j < n; j++) {
      tokens.add(new TokenWeight(seen.get(j), j, coef[j]));
    }
    return new Explanation(predicted, p[0][predicted], tokens);
  }

  /** {@code samples} masks over {@code n} tokens; mask 0 keeps everything. */
  static boolean[][] perturbations(int n, int samples, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    boolean[][] kept = new boolean[samples][n];
    int[] order = new int[n];
    for (int s = 0; s < samples; s++) {
      java.util.Arrays.fill(kept[s], true);
      if (s == 0) {
        continue;
      }
      int drop = 1 + rng.nextInt(n);
      for (int j = 0; j < n; j++) {
        order[j] = j;
      }
      for (int j = 0; j < drop; j++) { // partial Fisher-Yates: the first `drop` of a random order
        int pick = j + rng.nextInt(n - j);
        int t = order[j];
        order[j] = order[pick];
        order[pick] = t;
        kept[s][order[j]] = false;
      }
    }
    return kept;
  }

  /**
   * LIME's kernel: sqrt(exp(-d^2 / width^2)) with d = 100 x the cosine distance between the mask
   * and the all-ones mask, which for k of n tokens kept is 1 - sqrt(k / n).
   */
  static double kernel(boolean[] kept) {
    int k = 0;
    for (boolean b : kept) {
      k += b ? 1 : 0;
    }
    double d = 100 * (1 - Math.sqrt(k / (double) kept.length));
    return Math.sqrt(Math.exp(-d * d / (KERNEL_WIDTH * KERNEL_WIDTH)));
  }

  /**
   * The coefficients of min_b sum_s w_s (y_s - c - x_s b)^2 + alpha |b|^2 with an unpenalised
   * intercept c, as scikit-learn's Ridge with sample weights: centre x and y on their weighted
   * means, then solve (Z^T Z + alpha I) b = Z^T t with Z, t the centred rows scaled by sqrt(w_s).
   */
  static double[] weightedRidge(boolean[][] x, double[] y, double[] w, double alpha) {
    int rows = x.length;
    int n = x[0].length;
    double wSum = 0;
    double yMean = 0;
    double[] xMean = new double[n];
    for (int s = 0; s < rows; s++) {
      wSum += w[s];
      yMean += w[s] * y[s];
      for (int j = 0; j < n; j++) {
        xMean[j] += x[s][j] ? w[s] : 0;
      }
    }
    yMean /= wSum;
    for (int j = 0; j < n; j++) {
      xMean[j] /= wSum;
    }
    RealMatrix z = new Array2DRowRealMatrix(rows, n);
    RealVector t = new ArrayRealVector(rows);
    for (int s = 0; s < rows; s++) {
      double r = Math.sqrt(w[s]);
      t.setEntry(s, r * (y[s] - yMean));
      for (int j = 0; j < n; j++) {
        z.setEntry(s, j, r * ((x[s][j] ? 1 : 0) - xMean[j]));
      }
    }
    RealMatrix gram = z.transpose().multiply(z);
    for (int j = 0; j < n; j++) {
      gram.addToEntry(j, j, alpha);
    }
    // alpha > 0 makes the matrix symmetric positive definite, so Cholesky always succeeds.
    return new CholeskyDecomposition(gram).getSolver().solve(z.transpose().operate(t)).toArray();
  }
}
