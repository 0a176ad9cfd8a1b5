// SplitPlan: from per-file token counts to global sequence numbers, the validation split and
// the per-rank counts. Pure arithmetic on the driver, no Spark, so the rules are testable on
// their own. It does NOT move data: CorpusLoader uses the plan to key and route sequences.
// The training range does not depend on the world size (every rank reads every training
// sequence, in one global order), so a run resumes at another world size on the same rows.
package org.ringtrain.driver.data;

import java.io.Serializable;

/**
 * Global numbering and split of the sequences of a corpus.
 *
 * <p>Files are numbered in sorted path order; the sequences of file {@code f} get global
 * numbers {@code [offset(f), offset(f) + count(f))}. With {@code N} sequences in all:
 *
 * <ul>
 *   <li>held out: the last {@code H = max(round(N * fraction), worldSize)} sequences when the
 *       fraction is positive, none when it is 0. {@code H} does not depend on the world size
 *       unless {@code round(N * fraction)} is below it;
 *   <li>validation: the last {@code validationPerRank * worldSize} of them, {@code
 *       validationPerRank = floor(H / worldSize)} (at least 1 when the fraction is positive);
 *   <li>dropped: the other {@code H mod worldSize} held-out sequences;
 *   <li>training: every sequence before the held-out ones, {@code [0, N - H)}, in
 *       {@code worldSize} contiguous blocks of {@code ceil((N - H) / worldSize)} (the last ones
 *       shorter).
 * </ul>
 */
public final class SplitPlan implements Serializable {

  private static final long serialVersionUID = 1L;

  private final long[] sequenceOffsets; // per file, global number of its first sequence
  private final long totalTokens;
  private final long totalSequences;
  private final long trainSequences;
  private final long validationPerRank;
  private final int worldSize;

  private SplitPlan(
      long[] sequenceOffsets, long totalTokens, long totalSequences, long trainSequences,
      long validationPerRank, int worldSize) {
    this.sequenceOffsets = sequenceOffsets;
    this.totalTokens = totalTokens;
    this.totalSequences = totalSequences;
    this.trainSequences = trainSequences;
    this.validationPerRank = validationPerRank;
    this.worldSize = worldSize;
  }

  /**
   * Plans the split of a corpus.
   *
   * @param source the corpus path, for error messages
   * @param tokensPerFile token count of every file, in sorted path order
   * @throws IllegalArgumentException for an empty corpus, one with no file of at least
   *     {@code contextLength + 1} tokens, or one that leaves no training sequence
   */
  public static SplitPlan of(
      String source, long[] tokensPerFile, int contextLength, double validationFraction,
      int worldSize) {
    long[] sequencesPerFile = new long[tokensPerFile.length];
    long tokens = 0;
    long largestFile = 0;
    for (int f = 0; f < tokensPerFile.length; f++) {
      tokens += tokensPerFile[f];
      largestFile = Math.max(largestFile, tokensPerFile[f]);
      sequencesPerFile[f] = SequencePacker.sequenceCount(tokensPerFile[f], contextLength);
    }
    return plan(source, sequencesPerFile, tokens, contextLength, validationFraction, worldSize,
        tokensPerFile.length + " file(s)", ", the largest " + largestFile
            + " tokens (sequences never span files); use a larger corpus or a context length below " + largestFile);
  }

  /**
   * Plans the split of one token stream of {@code tokens} tokens held in parts (the partitions of
   * a table), part {@code p} holding the sequences that start in it.
   *
   * @param sequencesPerPart sequences starting in each part, in order; their sum is
   *     {@link SequencePacker#sequenceCount SequencePacker.sequenceCount(tokens, contextLength)}
   * @throws IllegalArgumentException as {@link #of}
   */
  public static SplitPlan ofStream(
      String source, long[] sequencesPerPart, long tokens, int contextLength, double validationFraction,
      int worldSize) {
    return plan(source, sequencesPerPart.clone(), tokens, contextLength, validationFraction, worldSize,
        "one text of " + sequencesPerPart.length + " part(s)", "; use more text or a shorter context length");
  }

  private static SplitPlan plan(String source, long[] sequencesPerFile, long tokens, int contextLength,
      double validationFraction, int worldSize, String what, String advice) {
    long[] offsets = new long[sequencesPerFile.length];
    long sequences = 0;
    for (int f = 0; f < sequencesPerFile.length; f++) {
      offsets[f] = sequences;
      sequences += sequencesPerFile[f];
    }
    if (tokens == 0) {
      throw new IllegalArgumentException(
          "corpus at '" + source + "' is empty: " + what
              + ", 0 tokens; expected at least contextLength+1 = " + (contextLength + 1)
              + " tokens in one file; point the path at a non-empty corpus");
    }
    if (sequences == 0) {
      throw new IllegalArgumentException(
          "corpus at '" + source + "' is shorter than contextLength+1 = " + (contextLength + 1)
              + " tokens: found " + tokens + " tokens in " + what + advice);
    }
    long heldOut = validationFraction > 0 ? Math.max(Math.round(sequences * validationFraction), worldSize) : 0;
    long trainSequences = sequences - heldOut;
    if (trainSequences <= 0) {
      throw new IllegalArgumentException(
          "corpus at '" + source + "' is too small for worldSize=" + worldSize + ": it gives "
              + sequences + " sequences of " + (contextLength + 1) + " tokens, of which "
              + heldOut + " are held out for validation (fraction " + validationFraction
              + ", at least one per rank); expected at least one training sequence; use a larger"
              + " corpus, a smaller context length, fewer ranks or a smaller validation fraction");
    }
    return new SplitPlan(
        offsets, tokens, sequences, trainSequences, heldOut / worldSize, worldSize);
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

  /** Training sequences of the whole run (every rank reads all of them); the same at every world size. */
  public long trainSequences() {
    return trainSequences;
  }

  /** Training sequences in each partition but the last ones, which hold fewer. */
  long trainPerPartition() {
    return (trainSequences + worldSize - 1) / worldSize;
  }

  /** Validation sequences every rank gets. */
  public long validationPerRank() {
    return validationPerRank;
  }

  /** End (exclusive) of the training range; also the start of the dropped range. */
  long trainEnd() {
    return trainSequences;
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
