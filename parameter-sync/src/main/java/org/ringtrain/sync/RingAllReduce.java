// Ring all-reduce: reduce-scatter, then all-gather (Patarasuk & Yuan, "Bandwidth
// optimal all-reduce algorithms for clusters of workstations", JPDC 2009; the
// shape of gloo's allreduce_ring_chunked.h). Each rank sends and receives
// 2(N-1)/N of the region, whatever N is.
//
// Frame j = step * S + k carries segment k of one chunk; steps 0..N-2 are the
// reduce-scatter, steps N-1..2N-3 the all-gather. At reduce-scatter step s rank
// r sends chunk r-s and receives (and adds) chunk r-s-1; after N-1 steps it owns
// the finished chunk r+1. At all-gather step s' it sends chunk r+1-s' and
// receives (and copies) chunk r-s'. The chunk a rank sends at any step >= 1 is
// the one it received one step earlier, so frame j may go once frame j-S has
// arrived. Each element is summed exactly once, on its owner, in an order fixed
// by its chunk and not by the rank that reads it; the all-gather then copies
// those bytes, so every rank ends bitwise equal.
//
// A Phase runs both halves (the all-reduce) or one of them: the reduce-scatter
// alone leaves each rank with its finished chunk r+1 (what ZeRO's sharded
// optimizer step needs), the all-gather alone copies every rank's chunk r+1 to
// all (the updated parameters afterwards). The halves are the same steps with
// the same frame schedule, so the two halves run one after the other are the
// all-reduce, bit for bit. The all-gather alone is always float32: it carries
// parameters.
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** One in-place all-reduce (or one half of it) of {@code count} floats at element {@code offset} of a direct buffer. */
final class RingAllReduce extends RingPipeline {

  /** Which steps of the all-reduce run. */
  enum Phase {
    /** Reduce-scatter then all-gather: every rank ends with every finished element. */
    ALL(FrameHeader.KIND_ALL_REDUCE),
    /** Reduce-scatter only: rank r ends with the finished chunk r+1 (see {@link RingChunks#owned}). */
    REDUCE_SCATTER(FrameHeader.KIND_REDUCE_SCATTER),
    /** All-gather only, float32 whatever the codec: every rank's chunk r+1 is copied to all. */
    ALL_GATHER(FrameHeader.KIND_ALL_GATHER);

    final short kind;

    Phase(short kind) {
      this.kind = kind;
    }
  }

  private final int rank;
  private final int worldSize;
  private final RingChunks chunks;
  private final int segments;
  private final ReduceOp op;
  private final WireCodec codec;
  /** The first step this phase runs and how many: the all-reduce's steps are 0..2N-3. */
  private final int firstStep;
  private final int steps;
  /** Byte offset of element 0 of the region within {@link #sendView} / {@link #data}. */
  private final int base;
  /**
   * Views of the caller's buffer, little-endian. {@code sendView} and {@code recvView} have their
   * position and limit moved per frame for channel I/O; {@code data} never does, because absolute
   * get/put checks indices against the limit.
   */
  private final ByteBuffer sendView;
  private final ByteBuffer recvView;
  private final ByteBuffer data;
  /** {@link #data} as floats: the reduce and average loops run 2.5x faster on a FloatBuffer view. */
  private final FloatBuffer floats;

  RingAllReduce(RingTransport transport, ByteBuffer buffer, int offset, int count, ReduceOp op) {
    this(transport, buffer, offset, count, op, Phase.ALL);
  }

  /** {@code op} matters only to the phases that reduce; the all-gather alone ignores it. */
  RingAllReduce(RingTransport transport, ByteBuffer buffer, int offset, int count, ReduceOp op, Phase phase) {
    this(transport, buffer, offset, count, op, phase,
        phase == Phase.ALL_GATHER ? WireCodec.FP32 : transport.config.codec());
  }

  /** As above, on the wire as {@code codec} whatever the config's (exact float32 for control values). */
  RingAllReduce(RingTransport transport, ByteBuffer buffer, int offset, int count, ReduceOp op, Phase phase,
      WireCodec codec) {
    super(transport, phase.kind);
    this.rank = transport.links.rank;
    this.worldSize = transport.links.worldSize;
    this.chunks = new RingChunks(worldSize, count, transport.config.segmentElements());
    this.segments = chunks.segmentsPerChunk;
    this.op = op;
    this.codec = codec;
    this.firstStep = phase == Phase.ALL_GATHER ? worldSize - 1 : 0;
    this.steps = phase == Phase.ALL ? 2 * (worldSize - 1) : worldSize - 1;
    this.base = offset * Float.BYTES;
    this.sendView = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    this.recvView = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    this.data = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
    this.floats = data.asFloatBuffer();
  }

  @Override
  int sendFrames() {
    return steps * segments;
  }

  @Override
  int recvFrames() {
    return sendFrames();
  }

  @Override
  int recvsBeforeSend(int j) {
    return j < segments ? 0 : j - segments + 1;
  }

  /** The all-reduce step that frame {@code j} of this phase belongs to. */
  private int stepOf(int j) {
    return firstStep + j / segments;
  }

  private boolean reducing(int step) {
    return step < worldSize - 1;
  }

  private int sendChunk(int step) {
    return chunks.wrap(reducing(step) ? rank - step : rank + 1 - (step - (worldSize - 1)));
  }

  private int recvChunk(int step) {
    return chunks.wrap(reducing(step) ? rank - step - 1 : rank - (step - (worldSize - 1)));
  }

  @Override
  ByteBuffer sendPayload(int j) {
    int chunk = sendChunk(stepOf(j));
    int k = j % segments;
    int from = base + chunks.segmentStart(chunk, k) * Float.BYTES;
    int len = chunks.segmentLength(chunk, k);
    if (codec == WireCodec.BF16) {
      Bf16.encode(data, from, t.sendStage.clear(), len);
      t.sendStage.limit(len * 2);
      return t.sendStage;
    }
    sendView.clear().position(from).limit(from + len * Float.BYTES);
    return sendView;
  }

  @Override
  int recvBytes(int j) {
    return chunks.segmentLength(recvChunk(stepOf(j)), j % segments) * codec.bytesPerElement();
  }

  @Override
  ByteBuffer recvTarget(int j) {
    int step = stepOf(j);
    int bytes = recvBytes(j);
    if (reducing(step) || codec == WireCodec.BF16) {
      t.recvStage.clear().limit(bytes);
      return t.recvStage;
    }
    // All-gather in float32: the finished bytes land straight in the caller's buffer.
    int from = base + chunks.segmentStart(recvChunk(step), j % segments) * Float.BYTES;
    recvView.clear().position(from).limit(from + bytes);
    return recvView;
  }

  @Override
  void onReceived(int j) {
    int step = stepOf(j);
    int chunk = recvChunk(step);
    int k = j % segments;
    int at = base + chunks.segmentStart(chunk, k) * Float.BYTES;
    int len = chunks.segmentLength(chunk, k);
    if (!reducing(step)) {
      if (codec == WireCodec.BF16) {
        Bf16.decode(t.recvStage, data, at, len);
      }
      return;
    }
    if (codec == WireCodec.BF16) {
      Bf16.decodeAdd(t.recvStage, data, at, len);
    } else {
      addInto(floats, at / Float.BYTES, t.recvStageFloats, len);
    }
    if (step == worldSize - 2) {
      finish(at, len); // this rank now owns the complete sum of this segment
    }
  }

  private static void addInto(FloatBuffer dst, int dstIndex, FloatBuffer src, int count) {
    for (int i = 0; i < count; i++) {
      dst.put(dstIndex + i, dst.get(dstIndex + i) + src.get(i));
    }
  }

  /** The owner's last touch: average, and round to what the wire will carry so that all ranks agree. */
  private void finish(int at, int len) {
    if (op == ReduceOp.AVERAGE) {
      float n = worldSize;
      int first = at / Float.BYTES;
      for (int i = first; i < first + len; i++) {
        floats.put(i, floats.get(i) / n);
      }
    }
    if (codec == WireCodec.BF16) {
      Bf16.roundInPlace(data, at, len);
    }
  }
}
