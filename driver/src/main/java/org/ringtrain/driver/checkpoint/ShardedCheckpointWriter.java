/*
 * ShardedCheckpointWriter: writes a checkpoint whose optimizer state is sharded over the ranks,
 * through a CheckpointStore: rank 0 makes the temporary directory, every rank writes its own
 * optimizer slice in parallel, rank 0 writes the weights, the state and the manifest last and
 * publishes the directory as CheckpointStore.write does. It does not move the slices' sizes and
 * digests between ranks (the training loop does, over the ring) and does not read checkpoints:
 * CheckpointReader assembles the slices.
 */
package org.ringtrain.driver.checkpoint;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.param.ParameterLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rank's handle on the sharded checkpoints of a store; the protocol per checkpoint is
 * {@link #begin} (rank 0), a barrier, {@link #writeSlice} (every rank), the slices' entries to
 * rank 0, {@link #commit} (rank 0).
 */
public final class ShardedCheckpointWriter {
  private static final Logger LOG = LoggerFactory.getLogger(ShardedCheckpointWriter.class);

  private final CheckpointStore store;

  /** Writes into {@code store}'s directory, with its run id and retention. */
  public ShardedCheckpointWriter(CheckpointStore store) {
    this.store = store;
  }

  /**
   * One rank's optimizer slice in a sharded checkpoint, as rank 0's manifest lists it.
   *
   * @param rank      the rank that wrote it
   * @param worldSize the ranks writing the checkpoint
   * @param size      bytes
   * @param sha256    the 32-byte SHA-256 of the file
   */
  public record SliceFile(int rank, int worldSize, long size, byte[] sha256) {
  }

  /**
   * Rank 0, before any rank writes its slice of the sharded checkpoint of {@code step}: creates the
   * temporary directory every rank writes into ({@code step-N.tmp-<runId>-sharded}), deleting one
   * that a failed attempt left. The ranks must wait for it (a barrier) before {@link #writeSlice}.
   */
  public void begin(long step) throws IOException {
    Path tmp = shardedTemporary(step);
    store.directory().deleteQuietly(tmp);
    if (!store.fs().mkdirs(tmp)) {
      throw new IOException("could not create the temporary checkpoint directory " + tmp
          + " (mkdirs returned false); run checkWritable() on the store before training");
    }
  }

  /**
   * Every rank, in parallel: writes its slice of {@code optimizer} (a sharded AdamW) into the
   * temporary directory of step {@code step} that {@link #begin} made.
   *
   * @return the slice's size and SHA-256, for rank 0's {@link #commit}
   */
  public SliceFile writeSlice(long step, AdamW optimizer, int rank, int worldSize) throws IOException {
    Path tmp = shardedTemporary(step); // opens the file system on ranks that have not written before
    Manifest.Entry e = new CheckpointWriter(store.fs()).writeSlice(tmp, optimizer, rank, worldSize);
    return new SliceFile(rank, worldSize, e.size(), HexFormat.of().parseHex(e.sha256()));
  }

  /**
   * Rank 0, once every rank's slice is written: the weights, AdamW's hyper-parameters and the
   * training state, then the manifest listing them and every slice, then the rename and the
   * clean-up of {@link CheckpointStore#write}. On failure the temporary directory is deleted.
   *
   * @return the fully qualified path of the new checkpoint directory
   */
  public String commit(TrainingState state, ParameterLayout layout, INDArray params, AdamW optimizer,
      List<SliceFile> slices) throws IOException {
    Path tmp = shardedTemporary(state.step());
    Path target = new Path(store.dir(), CheckpointFormat.directoryName(state.step()));
    List<Manifest.Entry> entries = new ArrayList<>();
    for (SliceFile f : slices) {
      entries.add(new Manifest.Entry(CheckpointFormat.optimizerSliceName(f.rank(), f.worldSize()), f.size(),
          CheckpointWriter.hex(f.sha256())));
    }
    try {
      new CheckpointWriter(store.fs()).writeSharded(tmp, store.runId(), state, layout, params, optimizer, entries);
      store.directory().publish(tmp, target);
    } catch (IOException | RuntimeException e) {
      store.directory().deleteQuietly(tmp);
      throw e;
    }
    LOG.info("wrote sharded checkpoint {} (step={}, runId={}, {} optimizer slices)", target, state.step(),
        store.runId(), slices.size());
    store.directory().cleanUp(state.step(), store.keepLast());
    return target.toString();
  }

  private Path shardedTemporary(long step) throws IOException {
    return new Path(store.dir(),
        CheckpointFormat.directoryName(step) + CheckpointFormat.TMP_INFIX + store.runId() + "-sharded");
  }
}
