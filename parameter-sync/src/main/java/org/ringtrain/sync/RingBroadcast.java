// Pipelined broadcast along the ring: the root sends segments to its right
// neighbour, each rank forwards a segment as soon as it has it, the rank before
// the root only receives. Always float32 on the wire: broadcast carries initial
// parameters, which must arrive exact.
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** One in-place broadcast of {@code count} floats from {@code root}. */
final class RingBroadcast extends RingPipeline {
  private final int position;
  private final int worldSize;
  private final int count;
  private final int segmentElements;
  private final int segments;
  private final int base;
  private final ByteBuffer sendView;
  private final ByteBuffer recvView;

  RingBroadcast(RingTransport transport, ByteBuffer buffer, int offset, int count, int root) {
    super(transport, FrameHeader.KIND_BROADCAST);
    this.worldSize = transport.links.worldSize;
    this.position = Math.floorMod(transport.links.rank - root, worldSize); // 0 = root
    this.count = count;
    this.segmentElements = transport.config.segmentElements();
    this.segments = Math.max(1, (count + segmentElements - 1) / segmentElements);
    this.base = offset * Float.BYTES;
    this.sendView = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    this.recvView = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  int sendFrames() {
    return position == worldSize - 1 ? 0 : segments;
  }

  @Override
  int recvFrames() {
    return position == 0 ? 0 : segments;
  }

  @Override
  int recvsBeforeSend(int j) {
    return position == 0 ? 0 : j + 1; // forward a segment once it has arrived
  }

  private void select(ByteBuffer view, int k) {
    int from = base + Math.min(count, k * segmentElements) * Float.BYTES;
    int to = base + Math.min(count, (k + 1) * segmentElements) * Float.BYTES;
    view.clear().position(from).limit(to);
  }

  @Override
  ByteBuffer sendPayload(int j) {
    select(sendView, j);
    return sendView;
  }

  @Override
  int recvBytes(int j) {
    return (Math.min(count, (j + 1) * segmentElements) - Math.min(count, j * segmentElements)) * Float.BYTES;
  }

  @Override
  ByteBuffer recvTarget(int j) {
    select(recvView, j);
    return recvView;
  }

  @Override
  void onReceived(int j) {
    // The bytes are already in place.
  }
}
