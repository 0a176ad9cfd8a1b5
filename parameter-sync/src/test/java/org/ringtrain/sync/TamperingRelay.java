// Test fixture: a LoopbackRelay between two real ranks that flips bits of ONE byte,
// at a given offset of the stream from the connecting rank, on the way: an attacker
// (or a broken middlebox) on the path.
package org.ringtrain.sync;

import java.io.IOException;
import java.nio.ByteBuffer;

final class TamperingRelay extends LoopbackRelay {
  private final long flipAt;
  private final byte mask;
  private volatile boolean flipped;

  /** A relay that XORs {@code mask} into byte {@code flipAt} (0-based) of the connecting side's stream. */
  TamperingRelay(long flipAt, byte mask) throws IOException {
    this.flipAt = flipAt;
    this.mask = mask;
  }

  /** Whether the byte was flipped (the stream reached that offset). */
  boolean flipped() {
    return flipped;
  }

  @Override
  void onChunk(boolean fromClient, ByteBuffer chunk, long offset) {
    if (fromClient && flipAt >= offset && flipAt < offset + chunk.limit()) {
      int i = (int) (flipAt - offset);
      chunk.put(i, (byte) (chunk.get(i) ^ mask));
      flipped = true;
    }
  }
}
