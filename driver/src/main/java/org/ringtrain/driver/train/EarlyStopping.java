// Early stopping on the validation loss, for one rank: after each validation pass
// it remembers the best loss and a copy of the parameters that reached it, and
// says stop once `patience` passes in a row brought no improvement. Every rank
// sees the same all-reduced loss and holds the same parameters, so every rank
// decides alike without talking. It runs no validation and writes no checkpoint
// (RankLoop does both); the copy lives in memory only, so a resumed run tracks
// the best from its resume point on.
package org.ringtrain.driver.train;

import org.nd4j.linalg.api.ndarray.INDArray;

/** The best validation loss so far, its parameters and the patience left; single use, one per rank. */
final class EarlyStopping implements AutoCloseable {
  private final long patience;
  private double bestLoss = Double.POSITIVE_INFINITY;
  private long bestStep = -1;
  private long worse; // validation passes in a row without a new best
  private INDArray best; // [N] the parameters at bestStep; null before the first finite loss

  /** @param patience validation passes without improvement before stopping, at least 1 */
  EarlyStopping(long patience) {
    if (patience < 1) {
      throw new IllegalArgumentException("early stopping needs patience >= 1, but found " + patience
          + "; use 0 in the loop config to turn it off instead");
    }
    this.patience = patience;
  }

  /**
   * Records the validation loss after step {@code step} with the parameters {@code params}; returns
   * whether to stop now. A NaN loss (no validation data) never counts as an improvement.
   */
  boolean record(long step, double loss, INDArray params) {
    if (loss < bestLoss) {
      bestLoss = loss;
      bestStep = step;
      worse = 0;
      if (best == null) {
        best = params.dup();
      } else {
        best.assign(params);
      }
      return false;
    }
    worse++;
    return worse >= patience;
  }

  /**
   * Puts the best parameters back into {@code params}; returns the step they are from, or -1 when
   * no pass improved (then {@code params} is left alone).
   */
  long restoreBest(INDArray params) {
    if (best != null) {
      params.assign(best);
    }
    return bestStep;
  }

  /** The best validation loss so far (+infinity before any finite one). */
  double bestLoss() {
    return bestLoss;
  }

  @Override
  public void close() {
    if (best != null) {
      best.close();
      best = null;
    }
  }
}
