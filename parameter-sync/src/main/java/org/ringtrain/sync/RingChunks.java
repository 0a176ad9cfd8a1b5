// How an all-reduce cuts a region: N near-equal chunks (one per rank), each cut
// into the same number S of segments so that frame j of every rank has the same
// meaning. Pure arithmetic; no I/O.
package org.ringtrain.sync;

/**
 * Chunk i covers elements [start(i), start(i) + length(i)); the first {@code count % N} chunks are one
 * element longer. Segment k of chunk i covers at most {@code segmentElements} elements from
 * {@code start(i) + k * segmentElements}; trailing segments of short chunks may be empty.
 */
final class RingChunks {
  final int worldSize;
  final int count;
  final int segmentElements;
  final int segmentsPerChunk;
  private final int base;
  private final int extra;

  RingChunks(int worldSize, int count, int segmentElements) {
    this.worldSize = worldSize;
    this.count = count;
    this.segmentElements = segmentElements;
    this.base = count / worldSize;
    this.extra = count % worldSize;
    int longest = base + (extra > 0 ? 1 : 0);
    this.segmentsPerChunk = Math.max(1, (longest + segmentElements - 1) / segmentElements);
  }

  int start(int chunk) {
    return chunk * base + Math.min(chunk, extra);
  }

  int length(int chunk) {
    return base + (chunk < extra ? 1 : 0);
  }

  /** First element of segment k of the chunk. */
  int segmentStart(int chunk, int k) {
    return start(chunk) + Math.min(length(chunk), k * segmentElements);
  }

  /** Elements in segment k of the chunk (0 for trailing segments of short chunks). */
  int segmentLength(int chunk, int k) {
    int from = Math.min(length(chunk), k * segmentElements);
    int to = Math.min(length(chunk), (k + 1) * segmentElements);
    return to - from;
  }

  /**
   * The element range {@code [start, end)} of a region of {@code count} floats that {@code rank}
   * owns after a reduce-scatter over {@code worldSize} ranks: chunk {@code (rank + 1) mod worldSize}.
   * It does not depend on the segment size. A world of one owns everything.
   */
  static int[] owned(int rank, int worldSize, int count) {
    RingChunks c = new RingChunks(worldSize, count, 1);
    int chunk = (rank + 1) % worldSize;
    return new int[] {c.start(chunk), c.start(chunk) + c.length(chunk)};
  }

  /** Chunk index modulo the world size, for any int. */
  int wrap(int chunk) {
    return Math.floorMod(chunk, worldSize);
  }
}
