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
 * @param cursor      sequences consumed in the current epoch, per rank; &gt;= 0
 * @param rngSeed     seed from which the run derives its per-epoch shuffles and sampling
 * @param configJson  the resolved training config as JSON, stored verbatim; not null (may be "{}")
 * @param tokenizerId id of the tokenizer the run uses, e.g. "byte" or "gpt2"; not blank
 */
public record TrainingState(long step, long epoch, long cursor, long rngSeed, String configJson, String tokenizerId)
    implements Serializable {

  /** Validates every field; messages name the field, the value found and what to pass instead. */
  public TrainingState {
    requireNonNegative("step", step);
    requireNonNegative("epoch", epoch);
    requireNonNegative("cursor", cursor);
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
