// The parts of a training step that differ when AdamW's state is sharded over
// the ranks (ZeRO stage 1, Rajbhandari et al., "ZeRO: Memory Optimizations
// Toward Training Trillion Parameter Models", SC 2020): after the buckets'
// reduce-scatter each rank holds the averaged gradients of the chunks it owns;
// it averages over micro-batches and clips only those, with the global norm
// summed from every rank's partial sum of squares; AdamW updates only those
// parameters, with m and v of only those; the ring then all-gathers the
// parameters over the same buckets. A checkpoint is written by every rank: its
// optimizer slice in parallel, then rank 0 the rest. It does not decide when to
// step, skip or checkpoint: RankLoop does.
package org.ringtrain.driver.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.OptimizerSlices;
import org.ringtrain.driver.checkpoint.ShardedCheckpointWriter;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.optim.GradientClipping;
import org.ringtrain.ops.optim.Optimizer;
import org.ringtrain.ops.optim.OwnedRanges;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingException;

/** One rank's sharded optimizer over a run's steps; single thread, closed by the rank loop. */
final class ShardedOptimizerStep implements AutoCloseable {
  /** A slice's size (8 bytes) and SHA-256 (32 bytes), as floats on the wire. */
  private static final int SLICE_RECORD_FLOATS = (Long.BYTES + 32) / Float.BYTES;

  private final RingCommunicator ring;
  private final AdamW start; // unsharded: fresh or from a checkpoint; its owner closes it
  private final OptimizerSlices slices; // a sharded checkpoint's state to resume from, or null
  private final ByteBuffer partials; // [2N] floats: each rank's double partial sum, as raw bits
  private AdamW sharded; // from the first step's buckets on
  private long[][] ranges; // {starts, ends} of the owned ranges

  /**
   * @param start  the unsharded optimizer to continue from (its state is sliced to this rank's
   *               ranges at the first step); an AdamW, the only optimizer the GPT loop runs
   * @param slices a sharded checkpoint's optimizer state to continue from instead of start's
   *               (this rank reads the part of each slice file it owns at the first step), or null
   */
  ShardedOptimizerStep(RingCommunicator ring, Optimizer start, OptimizerSlices slices) {
    if (!(start instanceof AdamW adamW)) {
      throw new IllegalArgumentException("optimizerSharding shards AdamW's state, but the run's optimizer is "
          + start + "; set optimizerSharding: false");
    }
    this.ring = ring;
    this.start = adamW;
    this.slices = slices;
    this.partials = ByteBuffer.allocateDirect(2 * ring.worldSize() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The optimizer whose state a checkpoint saves: the sharded one once the first step made it. */
  AdamW optimizer() {
    return sharded != null ? sharded : start;
  }

  /**
   * Averages this rank's owned gradients over {@code gradAccumSteps} micro-batches and clips them to
   * {@code gradClip} (0 = off) by the global norm, as the unsharded step does for the whole buffer;
   * returns the global norm before clipping, the same on every rank.
   */
  double averageAndClip(GradientBuckets buckets, INDArray grads, int gradAccumSteps, double gradClip)
      throws IOException {
    OwnedRanges owned = shard(buckets).owned();
    double sumOfSquares = 0;
    for (int i = 0; i < owned.count(); i++) {
      INDArray g = grads.get(NDArrayIndex.interval(owned.start(i), owned.end(i)));
      if (gradAccumSteps > 1) {
        g.muli(1.0 / gradAccumSteps);
      }
      sumOfSquares += GradientClipping.sumOfSquares(g);
    }
    double norm = Math.sqrt(sumOverRanks(sumOfSquares));
    double scale = gradClip > 0 ? GradientClipping.clipScale(norm, gradClip) : 1.0;
    if (scale != 1.0) {
      for (int i = 0; i < owned.count(); i++) {
        grads.get(NDArrayIndex.interval(owned.start(i), owned.end(i))).muli(scale);
      }
    }
    return norm;
  }

  /** AdamW on the owned ranges, then the all-gather that gives every rank every updated parameter. */
  void update(GradientBuckets buckets, INDArray params, ByteBuffer paramBytes, INDArray grads, double lr)
      throws IOException {
    shard(buckets).step(params, grads, lr);
    buckets.allGather(paramBytes);
  }

  /**
   * Writes a sharded checkpoint with every rank: rank 0 makes the temporary directory, every rank
   * writes its optimizer slice in parallel, each slice's size and SHA-256 reach rank 0 by one
   * broadcast per rank (which copies bytes exactly), and rank 0 writes the weights, the state and
   * the manifest last. Returns the checkpoint's path on rank 0, null on the others.
   */
  String checkpoint(CheckpointStore store, TrainingState state, ParameterLayout layout, INDArray params)
      throws IOException {
    int rank = ring.rank();
    int n = ring.worldSize();
    ShardedCheckpointWriter writer = new ShardedCheckpointWriter(store);
    if (rank == 0) {
      writer.begin(state.step());
    }
    ring.barrier();
    ShardedCheckpointWriter.SliceFile mine = writer.writeSlice(state.step(), optimizer(), rank, n);
    ByteBuffer wire = ByteBuffer.allocateDirect(SLICE_RECORD_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    List<ShardedCheckpointWriter.SliceFile> slices = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      if (r == rank) {
        wire.clear();
        wire.putLong(0, mine.size());
        wire.put(Long.BYTES, mine.sha256());
      }
      ring.broadcast(wire, 0, SLICE_RECORD_FLOATS, r);
      byte[] sha = new byte[32];
      wire.get(Long.BYTES, sha);
      slices.add(new ShardedCheckpointWriter.SliceFile(r, n, wire.getLong(0), sha));
    }
    return rank == 0 ? writer.commit(state, layout, params, optimizer(), slices) : null;
  }

  /**
   * The sum over the ranks of one double per rank, bitwise the same on every rank: each rank's value
   * travels as raw bits in its owned chunk of a 2N-float all-gather (which copies bytes, never adds),
   * then every rank adds the N values in rank order.
   */
  private double sumOverRanks(double mine) throws RingException {
    int n = ring.worldSize();
    partials.putLong(ring.ownedRange(2 * n).start() * Float.BYTES, Double.doubleToRawLongBits(mine));
    ring.allGather(partials, 0, 2 * n);
    double sum = 0;
    for (int r = 0; r < n; r++) {
      sum += Double.longBitsToDouble(partials.getLong(RingCommunicator.ownedRange(r, n, 2 * n).start() * Float.BYTES));
    }
    return sum;
  }

  /**
   * The sharded AdamW, made at the first step from the checkpoint's slices (only this rank's part
   * read) or the start optimizer; the buckets must not change.
   */
  private AdamW shard(GradientBuckets buckets) throws IOException {
    long[][] now = buckets.ownedRanges();
    if (sharded == null) {
      ranges = now;
      OwnedRanges owned = OwnedRanges.of(start.layout(), now[0], now[1]);
      sharded = slices != null ? slices.shard(owned) : start.shard(owned);
    } else if (!Arrays.equals(ranges[0], now[0]) || !Arrays.equals(ranges[1], now[1])) {
      throw new IllegalStateException("rank " + ring.rank() + ": the gradient buckets changed between steps ("
          + ranges[0].length + " owned ranges at the first step, " + now[0].length + " now), but the sharded "
          + "optimizer's state is laid out for the first step's; the model's backward must report the same "
          + "gradient ranges every step");
    }
    return sharded;
  }

  @Override
  public void close() {
    if (sharded != null) {
      sharded.close();
    }
  }
}
