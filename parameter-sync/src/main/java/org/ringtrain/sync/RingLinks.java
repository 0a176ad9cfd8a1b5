// The two authenticated connections a rank keeps: from its left neighbour
// (inbound) and to its right neighbour (outbound). Data flows left to right.
package org.ringtrain.sync;

import java.io.IOException;
import java.nio.channels.SocketChannel;

/** A rank's connected, handshaken neighbours. Closing closes both channels. */
final class RingLinks implements AutoCloseable {
  final int rank;
  final int worldSize;
  final Peer leftPeer;
  final SocketChannel inbox;
  final Peer rightPeer;
  final SocketChannel outbox;
  /** Key of the frames from the left neighbour (derived in this link's handshake; never logged). */
  final byte[] inboxKey;
  /** Key of the frames to the right neighbour. */
  final byte[] outboxKey;

  RingLinks(int rank, int worldSize, Peer leftPeer, SocketChannel inbox, Peer rightPeer, SocketChannel outbox,
      byte[] inboxKey, byte[] outboxKey) {
    this.rank = rank;
    this.worldSize = worldSize;
    this.leftPeer = leftPeer;
    this.inbox = inbox;
    this.rightPeer = rightPeer;
    this.outbox = outbox;
    this.inboxKey = inboxKey;
    this.outboxKey = outboxKey;
  }

  @Override
  public void close() {
    closeQuietly(inbox);
    closeQuietly(outbox);
  }

  static void closeQuietly(java.io.Closeable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException ignored) {
      // Closing after a failure: the original error is what matters.
    }
  }
}
