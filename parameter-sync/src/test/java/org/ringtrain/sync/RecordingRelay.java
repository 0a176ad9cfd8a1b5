// Test fixture: a LoopbackRelay that passes one connection through unchanged and
// records the bytes in both directions, to capture a real handshake between two
// real ranks (for the replay test).
package org.ringtrain.sync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

final class RecordingRelay extends LoopbackRelay {
  private final ByteArrayOutputStream fromClient = new ByteArrayOutputStream();
  private final ByteArrayOutputStream fromServer = new ByteArrayOutputStream();

  RecordingRelay() throws IOException {
  }

  /** Everything the connecting side sent so far. */
  byte[] fromClient() {
    synchronized (fromClient) {
      return fromClient.toByteArray();
    }
  }

  /** Everything the accepting side sent so far. */
  byte[] fromServer() {
    synchronized (fromServer) {
      return fromServer.toByteArray();
    }
  }

  @Override
  void onChunk(boolean fromClientSide, ByteBuffer chunk, long offset) {
    ByteArrayOutputStream record = fromClientSide ? fromClient : fromServer;
    synchronized (record) {
      record.write(chunk.array(), 0, chunk.limit());
    }
  }
}
