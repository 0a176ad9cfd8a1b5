// TaskFailures: turns a failed Spark job back into the error a file read on an executor
// raised, so that a bad input reports the same exception type and message as on the driver.
// It does NOT retry or hide anything: errors that are not recognised pass through unchanged.
package org.ringtrain.driver.data;

import java.io.IOException;
import org.ringtrain.driver.shards.CorruptShardException;

/** Unwrapping of executor-side input errors from Spark's job failures. */
public final class TaskFailures {

  private TaskFailures() {}

  /**
   * The exception to throw for a failed job that read {@code source}: an {@link
   * IllegalArgumentException} or {@link CorruptShardException} raised in a task is rethrown as
   * the same type with the same message (the Spark failure attached as cause); other runtime
   * exceptions are thrown as they are; anything else comes back as an IOException.
   *
   * @throws IllegalArgumentException or another RuntimeException, as described
   */
  public static IOException unwrap(String source, Exception failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof IllegalArgumentException) {
        throw new IllegalArgumentException(t.getMessage(), failure);
      }
      if (t instanceof CorruptShardException) {
        CorruptShardException copy = new CorruptShardException(t.getMessage());
        copy.initCause(failure);
        return copy;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    if (failure instanceof RuntimeException re) {
      throw re;
    }
    if (failure instanceof IOException io) {
      return io;
    }
    return new IOException(
        "reading '" + source + "' failed on the executors: " + failure.getMessage(), failure);
  }
}
