// SplitPlan: from per-file token counts to global sequence numbers, the validation split and
// the per-rank counts. Pure arithmetic on the driver, no Spark, so the rules are testable on
// their own. It does NOT move data: CorpusLoader uses the plan to key and route sequences.
package org.ringtrain.driver.data;

import java.io.Serializable;

/**
 * Global numbering and split of the sequences of a corpus.
 *
 * <p>Files are numbered in sorted path order; the sequences of file {@code f} get global
 * numbers {@code [offset(f), offset(f) + count(f))}. With {@code N} sequences in all:
 *
 * <ul>
 *   <li>validation: the last {@code V = validationPerRank * worldSize} sequences, where
 *       {@code validationPerRank = round(N * fraction / worldSize)}, at least 1 when the
 *       fraction is positive, 0 when it is 0;
 *   <li>training: {@code [0, trainPerRank * worldSize)} with {@code trainPerRank =
 *       floor((N - V) / worldSize)}; rank {@code r} gets the contiguous block starting at
 *       {@code r * trainPerRank};
 *   <li>dropped: the {@code (N - V) mod worldSize} sequences just before the validation range.
 * </ul>
 */
public final class SplitPlan implements Serializable {

  private static final long serialVersionUID = 1L;

  private final long[] sequenceOffsets; // per file, global number of its first sequence
  private final long totalTokens;
  private final long totalSequences;
  private final long trainPerRank;
  private final long validationPerRank;
  private final int worldSize;

  private SplitPlan(
      long[] sequenceOffsets, long totalTokens, long totalSequences, long trainPerRank,
      long validationPerRank, int worldSize) {
    this.sequenceOffsets = sequenceOffsets;
    this.totalTokens = totalTokens;
    this.totalSequences = totalSequences;
    this.trainPerRank = trainPerRank;
    this.validationPerRank = validationPerRank;
    this.worldSize = worldSize;
  }

  /**
   * Plans the split of a corpus.
   *
   * @param source the corpus path, for error messages
   * @param tokensPerFile token count of every file, in sorted path order
   * @throws IllegalArgumentException for an empty corpus, one with no file of at least
   *     {@code contextLength + 1} tokens, or one too small for {@code worldSize} ranks
   */
  public static SplitPlan of(
      String source, long[] tokensPerFile, int contextLength, double validationFraction,
      int worldSize) {
    long[] offsets = new long[tokensPerFile.length];
    long tokens = 0;
    long sequences = 0;
    long largestFile = 0;
    for (int f = 0; f < tokensPerFile.length; f++) {
      offsets[f] = sequences;
      tokens += tokensPerFile[f];
      largestFile = Math.max(largestFile, tokensPerFile[f]);
      sequences += SequencePacker.sequenceCount(tokensPerFile[f], contextLength);
    }
    if (tokens == 0) {
      throw new IllegalArgumentException(
          "corpus at '" + source + "' is empty: " + tokensPerFile.length
              + " file(s), 0 tokens; expected at least contextLength+1 = " + (contextLength + 1)
              + " tokens in one file; point the path at a non-empty corpus");
    }
    if (sequences == 0) {
      throw new IllegalArgumentException(
          "corpus at '" + source + "' is shorter than contextLength+1 = " + (contextLength + 1)
              + " tokens: found " + tokens + " tokens in " + tokensPerFile.length
              + " file(s), the largest " + largestFile
              + " tokens (sequences never span files); use a larger corpus or a context"
              + " length below " + largestFile);
    }
    long validationPerRank = 0;
    if (validationFraction > 0) {
      validationPerRank = Math.max(1, Math.round(sequences * validationFraction / worldSize));
    }
    long trainPool = sequences - validationPerRank * worldSize;
    long trainPerRank = trainPool <= 0 ? 0 : trainPool / worldSize;
    if (trainPerRank == 0) {
      throw new IllegalArgumentException(
          "corpus at '" + source + "' is too small for worldSize=" + worldSize + ": it gives "
              + sequences + " sequences of " + (contextLength + 1) + " tokens, of which "
              + (validationPerRank * worldSize) + " go to validation (fraction "
              + validationFraction + "); expected at least " + worldSize
              + " training sequences (one per rank); use a larger corpus, a smaller context"
              + " length, fewer ranks or a smaller validation fraction");
    }
    return new SplitPlan(
        offsets, tokens, sequences, trainPerRank, validationPerRank, worldSize);
  }

  /** Global number of the first sequence of file {@code fileIndex}. */
  long sequenceOffset(int fileIndex) {
    return sequenceOffsets[fileIndex];
  }

  long totalTokens() {
    return totalTokens;
  }

  long totalSequences() {
    return totalSequences;
  }

  /** Training sequences every rank gets. */
  public long trainPerRank() {
    return trainPerRank;
  }

  /** Validation sequences every rank gets. */
  public long validationPerRank() {
    return validationPerRank;
  }

  /** End (exclusive) of the training range; also the start of the dropped range. */
  long trainEnd() {
    return trainPerRank * worldSize;
  }

  /** Start of the validation range; also the end (exclusive) of the dropped range. */
  long validationStart() {
    return totalSequences - validationPerRank * worldSize;
  }

  long droppedSequences() {
    return validationStart() - trainEnd();
  }

  int worldSize() {
    return worldSize;
  }
}
