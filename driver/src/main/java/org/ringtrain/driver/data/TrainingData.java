// TrainingData: the result of CorpusLoader.load, the packed training and validation
// sequences as RDDs plus their counts. It is driver-side only (it holds RDDs) and is NOT
// Serializable; ship the RDDs, not this object.
package org.ringtrain.driver.data;

import org.apache.spark.api.java.JavaRDD;
import org.ringtrain.driver.tokenize.Tokenizer;

/**
 * Packed sequences of {@code contextLength + 1} token ids, ready for the barrier stage.
 *
 * <p>Both RDDs have exactly {@link #worldSize()} partitions, in global sequence order, the same
 * for every load of the same corpus and spec. Every rank trains on all training sequences (one
 * global order, see DataParallelTrainer), so the training sequences are the same at every world
 * size (unless the validation hold-out is below one sequence per rank); validation partition
 * {@code r} is rank {@code r}'s. Both are persisted (memory, spilling to disk); call
 * {@link #unpersist()} when done.
 */
public final class TrainingData {

  private final JavaRDD<int[]> train;
  private final JavaRDD<int[]> validation;
  private final DatasetSpec spec;
  private final Tokenizer tokenizer;
  private final int files;
  private final long corpusTokens;
  private final long totalSequences;
  private final long trainSequences;
  private final long validationPerRank;
  private final long droppedSequences;

  TrainingData(
      JavaRDD<int[]> train, JavaRDD<int[]> validation, DatasetSpec spec, Tokenizer tokenizer,
      int files, SplitPlan plan) {
    this.train = train;
    this.validation = validation;
    this.spec = spec;
    this.tokenizer = tokenizer;
    this.files = files;
    this.corpusTokens = plan.totalTokens();
    this.totalSequences = plan.totalSequences();
    this.trainSequences = plan.trainSequences();
    this.validationPerRank = plan.validationPerRank();
    this.droppedSequences = plan.droppedSequences();
  }

  /**
   * Training sequences: global sequences {@code [0, trainSequences())} in {@code worldSize}
   * contiguous partitions of {@code ceil(trainSequences / worldSize)} (the last ones fewer).
   */
  public JavaRDD<int[]> train() {
    return train;
  }

  /**
   * Validation sequences (the last ones of the corpus): exactly {@code worldSize} partitions
   * of exactly {@link #validationPerRank()} sequences each (all empty when the validation
   * fraction is 0).
   */
  public JavaRDD<int[]> validation() {
    return validation;
  }

  /** Training sequences in all (at least 1), the same at every world size. */
  public long trainSequences() {
    return trainSequences;
  }

  /** Validation sequences in each partition (0 only when the validation fraction is 0). */
  public long validationPerRank() {
    return validationPerRank;
  }

  /** Tokens in the whole corpus, including those that end up in no sequence. */
  public long corpusTokens() {
    return corpusTokens;
  }

  /** Sequences the corpus gives before the split: train + validation + dropped. */
  public long totalSequences() {
    return totalSequences;
  }

  /** Held-out sequences dropped so that every rank validates on the same count (below worldSize). */
  public long droppedSequences() {
    return droppedSequences;
  }

  /** The tokenizer the corpus was read with. */
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The spec this data was loaded from. */
  public DatasetSpec spec() {
    return spec;
  }

  /** Number of ranks, and of partitions in both RDDs. */
  public int worldSize() {
    return spec.worldSize();
  }

  /** Tokens per sequence: {@code contextLength + 1}. */
  public int sequenceLength() {
    return spec.sequenceLength();
  }

  /** Number of input files read. */
  public int fileCount() {
    return files;
  }

  /** Releases the persisted training and validation RDDs (non-blocking). */
  public void unpersist() {
    train.unpersist(false);
    validation.unpersist(false);
  }

  @Override
  public String toString() {
    return "TrainingData[path=" + spec.path() + ", files=" + files + ", tokens=" + corpusTokens
        + ", sequences=" + totalSequences + ", train=" + trainSequences
        + ", validation=" + validationPerRank + "x" + worldSize() + ", dropped="
        + droppedSequences + ", tokenizer=" + tokenizer.id() + "]";
  }
}
