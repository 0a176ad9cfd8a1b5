/*
 * TrainingState: the position of a training run that a resume needs besides the weights and the
 * optimizer moments. It is a value, not a writer: CheckpointWriter and CheckpointReader put it into
 * and take it out of a checkpoint's state.json.
 */
package org.ringtrain.driver.checkpoint;

import java.io.Serializable;

/**
 * Everything besides weights and optimizer moments that a resume needs; validated in the compact
 * constructor.
 *
 * @param step        optimizer steps completed; &gt;= 0
 * @param epoch       epochs started, 0-based; &gt;= 0
 * @param cursor      rows of the current epoch's global order consumed, across all ranks (per rank
 *                    in checkpoints written without {@code globalBatch}); &gt;= 0
 * @param rngSeed     seed from which the run derives its per-epoch shuffles and sampling
 * @param configJson  the resolved training config as JSON, stored verbatim; not null (may be "{}")
 * @param tokenizerId id of the tokenizer the run uses, e.g. "byte" or "gpt2"; not blank
 * @param globalBatch rows per optimizer step across all ranks, kept when a run resumes at another
 *                    world size; 0 in checkpoints written before it was stored; &gt;= 0
 */
public record TrainingState(long step, long epoch, long cursor, long rngSeed, String configJson, String tokenizerId,
    long globalBatch) implements Serializable {

  /** A state without a global batch size (0: unknown), as checkpoints before it stored. */
  public TrainingState(long step, long epoch, long cursor, long rngSeed, String configJson, String tokenizerId) {
    this(step, epoch, cursor, rngSeed, configJson, tokenizerId, 0);
  }

  /** Validates every field; messages name the field, the value found and what to pass instead. */
  public TrainingState {
    requireNonNegative("step", step);
    requireNonNegative("epoch", epoch);
    requireNonNegative("cursor", cursor);
    requireNonNegative("globalBatch", globalBatch);
    if (configJson == null) {
      throw new IllegalArgumentException("configJson must not be null; pass the resolved training config as JSON, "
          + "or \"{}\" if there is none");
    }
    if (tokenizerId == null || tokenizerId.isBlank()) {
      throw new IllegalArgumentException("tokenizerId must not be blank, but found "
          + (tokenizerId == null ? "null" : "'" + tokenizerId + "'") + "; pass the id of the run's tokenizer, "
          + "e.g. \"byte\"");
    }
  }

  private static void requireNonNegative(String field, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(field + " must be >= 0, but found " + field + "=" + value);
    }
  }
}
