/*
 * IncompatibleCheckpointException: an intact checkpoint this build or this model cannot use (an
 * unknown format version, another model config). It is not a corruption: falling back to an older
 * checkpoint would silently lose progress, so the store refuses instead.
 */
package org.ringtrain.driver.checkpoint;

import java.io.IOException;

/**
 * A checkpoint verifies but cannot be used here: it was written in a format version this build
 * does not know, or for a different model config. {@link CheckpointStore#loadLatestValid} does not
 * skip it; the message carries a HINT on what to do.
 */
public class IncompatibleCheckpointException extends IOException {

  private static final long serialVersionUID = 1L;

  /** An incompatible checkpoint; {@code message} names the path, what was found and a HINT. */
  public IncompatibleCheckpointException(String message) {
    super(message);
  }

  /** An incompatible checkpoint, detected through {@code cause}. */
  public IncompatibleCheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
