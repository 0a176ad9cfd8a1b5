// CorruptShardException: a token shard file that is not a valid llm.c shard. It is NOT used
// for I/O failures of the FileSystem itself, which stay plain IOExceptions.
package org.ringtrain.driver.shards;

import java.io.IOException;

/** Thrown when a shard has a bad magic number, an unknown version, or the wrong length. */
public final class CorruptShardException extends IOException {

  private static final long serialVersionUID = 1L;

  /** @param message names the file, what was expected, what was found and what to do */
  public CorruptShardException(String message) {
    super(message);
  }
}
