/*
 * SafetensorsException: a safetensors file that cannot be loaded into a parameter layout, because it
 * is corrupt, truncated or holds other tensors than the layout expects. It is not used for I/O
 * failures of the underlying stream; those stay plain IOExceptions.
 */
package org.ringtrain.ops.io;

import java.io.IOException;

/**
 * A safetensors file whose bytes or tensors do not fit the expected parameter layout. The message
 * says what was expected, what was found and what to do.
 */
public final class SafetensorsException extends IOException {

  private static final long serialVersionUID = 1L;

  /** A file problem described by {@code message}. */
  public SafetensorsException(String message) {
    super(message);
  }

  /** A file problem described by {@code message}, caused by {@code cause} (e.g. a JSON parse error). */
  public SafetensorsException(String message, Throwable cause) {
    super(message, cause);
  }
}
