/*
 * CorruptCheckpointException: a checkpoint directory whose bytes are not what its writer wrote
 * (missing manifest, missing or truncated file, checksum mismatch). It is not used for I/O errors of
 * the file system itself, nor for intact checkpoints this build cannot use.
 */
package org.ringtrain.driver.checkpoint;

import java.io.IOException;

/**
 * A checkpoint is corrupt or partial: its manifest is missing or unreadable, or a file is missing,
 * has the wrong size or fails its SHA-256. {@link CheckpointStore#loadLatestValid} logs and skips
 * such checkpoints and falls back to the previous one.
 */
public class CorruptCheckpointException extends IOException {

  private static final long serialVersionUID = 1L;

  /** A corrupt checkpoint; {@code message} names the path and what is wrong. */
  public CorruptCheckpointException(String message) {
    super(message);
  }

  /** A corrupt checkpoint, detected through {@code cause}. */
  public CorruptCheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
