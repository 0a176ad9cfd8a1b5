/*
 * DropoutKey: what the dropout masks of one training forward pass are keyed by, besides the site:
 * the run's seed, the optimizer step and each row's sample index. A value only; the masks
 * themselves come from TransformerDropout and DropoutKernel.
 */
package org.ringtrain.ops.transformer;

import java.util.Arrays;

/**
 * The key of a training forward's dropout masks. Because a mask depends on these values and on the
 * element's coordinates only, a data-parallel run of N ranks with B rows each draws the same masks
 * as one rank with N*B rows of the same samples, and activation recomputation redraws them exactly.
 *
 * @param seed    the run's seed
 * @param step    the optimizer step (0-based); micro-batches of one step differ by their samples
 * @param samples one index per row of the batch: the sample's index in the training set (copied)
 */
public record DropoutKey(long seed, long step, int[] samples) {

  /** Copies {@code samples}, which must not be null. */
  public DropoutKey {
    if (samples == null) {
      throw new IllegalArgumentException("a DropoutKey needs one sample index per row, but found null samples;"
          + " pass the rows' indices in the training set");
    }
    samples = samples.clone();
  }

  /** A copy of the sample indices. */
  @Override
  public int[] samples() {
    return samples.clone();
  }

  /** The sample indices, not copied, for this package. */
  int[] samplesView() {
    return samples;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DropoutKey k && k.seed == seed && k.step == step && Arrays.equals(k.samples, samples);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(seed) * 31 * 31 + Long.hashCode(step) * 31 + Arrays.hashCode(samples);
  }

  @Override
  public String toString() {
    return "DropoutKey[seed=" + seed + ", step=" + step + ", samples=" + Arrays.toString(samples) + "]";
  }
}
