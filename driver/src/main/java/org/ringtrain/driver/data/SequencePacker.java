// SequencePacker: the packing arithmetic, in one place, for one file's token stream. It does
// NOT know about files, ranks or Spark; CorpusLoader applies it per file and SplitPlan numbers
// the results globally.
package org.ringtrain.driver.data;

import java.util.Arrays;

/**
 * Cuts a token stream into sequences of {@code T + 1} tokens with stride {@code T}: sequence
 * {@code i} is tokens {@code [i*T, i*T + T + 1)}. Consecutive sequences share one token (the
 * last target of one is the first input of the next), so every token after the first is a
 * prediction target exactly once. Tokens after the last whole sequence are not used.
 */
public final class SequencePacker {

  private SequencePacker() {}

  /**
   * How many whole sequences a stream of {@code tokens} tokens gives at context length
   * {@code contextLength}: {@code floor((tokens - 1) / T)}, and 0 for fewer than {@code T + 1}.
   *
   * @throws IllegalArgumentException for a negative count or a context length below 1
   */
  public static long sequenceCount(long tokens, int contextLength) {
    if (tokens < 0 || contextLength < 1) {
      throw new IllegalArgumentException(
          "expected tokens >= 0 and contextLength >= 1, found tokens=" + tokens
              + " contextLength=" + contextLength);
    }
    return tokens <= contextLength ? 0 : (tokens - 1) / contextLength;
  }

  /**
   * Sequence {@code index} of a stream: a copy of {@code tokens[index*T .. index*T + T]}.
   *
   * @throws IllegalArgumentException if {@code index} is not below {@link #sequenceCount}
   */
  public static int[] sequence(int[] tokens, long index, int contextLength) {
    long count = sequenceCount(tokens.length, contextLength);
    if (index < 0 || index >= count) {
      throw new IllegalArgumentException(
          "sequence index " + index + " out of range: a stream of " + tokens.length
              + " tokens has " + count + " sequences at contextLength " + contextLength);
    }
    int from = (int) (index * contextLength);
    return Arrays.copyOfRange(tokens, from, from + contextLength + 1);
  }
}
