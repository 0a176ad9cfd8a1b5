/*
 * OptimizerSlice: the file format of one rank's slice of a sharded AdamW's state (its owned ranges
 * and their m and v) inside a checkpoint: writing it, and reading its header (OptimizerSlices reads
 * the data). It does not hash, name or place files: CheckpointWriter and CheckpointReader do.
 */
package org.ringtrain.driver.checkpoint;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.io.FlatBufferIo;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.optim.OwnedRanges;

/**
 * Layout (big-endian header, little-endian floats): {@code "RTOSLICE" | int version (1) | long step
 * | int rank | int worldSize | long layoutElements | int rangeCount | rangeCount x (long start,
 * long end) | m of every range, back to back (float32) | v likewise}. A slice written before its
 * optimizer's first step (or by a rank owning nothing) has zero ranges.
 */
final class OptimizerSlice {

  static final byte[] MAGIC = {'R', 'T', 'O', 'S', 'L', 'I', 'C', 'E'};
  static final int VERSION = 1;

  private OptimizerSlice() {
  }

  /** Writes rank {@code rank}'s slice of {@code optimizer}, a sharded AdamW. */
  static void write(AdamW optimizer, int rank, int worldSize, OutputStream sink) throws IOException {
    OwnedRanges owned = optimizer.owned();
    INDArray[] moments = optimizer.ownedMoments();
    int ranges = moments == null ? 0 : owned.count();
    DataOutputStream out = new DataOutputStream(sink);
    out.write(MAGIC);
    out.writeInt(VERSION);
    out.writeLong(optimizer.stepCount());
    out.writeInt(rank);
    out.writeInt(worldSize);
    out.writeLong(optimizer.layout().totalElements());
    out.writeInt(ranges);
    for (int i = 0; i < ranges; i++) {
      out.writeLong(owned.start(i));
      out.writeLong(owned.end(i));
    }
    out.flush();
    if (ranges > 0) {
      byte[] chunk = new byte[FlatBufferIo.CHUNK_BYTES];
      FlatBufferIo.write(moments[0], 0, owned.elements(), sink, chunk);
      FlatBufferIo.write(moments[1], 0, owned.elements(), sink, chunk);
    }
  }

  /**
   * What a slice's header says: the step count, its owned ranges, and where its m and v start in
   * the file ({@code dataOffset}; v follows m's {@code elements} floats).
   */
  record Header(long step, long[] starts, long[] ends, long dataOffset, long elements) {

    /** Offset of range {@code i} in this slice's m (and v): the elements of the ranges before it. */
    long stateOffset(int i) {
      long at = 0;
      for (int j = 0; j < i; j++) {
        at += ends[j] - starts[j];
      }
      return at;
    }
  }

  /**
   * Reads a slice's header (and no data) and checks it against what the manifest promises.
   *
   * @param step           the step count every slice must hold, or -1 for the first slice read
   * @param layoutElements the parameters of the model that resumes
   * @throws CorruptCheckpointException when the header does not match what the manifest promises
   *     (step, rank, world size, layout size) or a range lies outside the buffer
   */
  static Header readHeader(InputStream source, String file, long step, int rank, int worldSize, long layoutElements)
      throws IOException {
    DataInputStream in = new DataInputStream(source);
    byte[] magic = in.readNBytes(MAGIC.length);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw new CorruptCheckpointException(file + " is not an optimizer slice: expected the magic RTOSLICE");
    }
    int version = in.readInt();
    long gotStep = in.readLong();
    int gotRank = in.readInt();
    int gotWorld = in.readInt();
    long elements = in.readLong();
    int count = in.readInt();
    if (version != VERSION || step >= 0 && gotStep != step || gotRank != rank || gotWorld != worldSize
        || elements != layoutElements || count < 0 || count > elements) {
      throw new CorruptCheckpointException(file + ": expected slice version " + VERSION + " of step " + step
          + ", rank " + rank + " of " + worldSize + ", " + layoutElements + " parameters; found version " + version
          + ", step " + gotStep + ", rank " + gotRank + " of " + gotWorld + ", " + elements + " parameters, "
          + count + " ranges; the slice belongs to another checkpoint");
    }
    long[] starts = new long[count];
    long[] ends = new long[count];
    long owned = 0;
    for (int i = 0; i < count; i++) {
      starts[i] = in.readLong();
      ends[i] = in.readLong();
      if (starts[i] < 0 || ends[i] > elements || starts[i] >= ends[i]) {
        throw new CorruptCheckpointException(file + ": range " + i + " [" + starts[i] + ", " + ends[i]
            + ") is not a non-empty range of the " + elements + " parameters");
      }
      owned += ends[i] - starts[i];
    }
    long headerBytes = MAGIC.length + Integer.BYTES + Long.BYTES + 2 * Integer.BYTES + Long.BYTES + Integer.BYTES
        + 2L * Long.BYTES * count;
    return new Header(gotStep, starts, ends, headerBytes, owned);
  }

  /**
   * The optimizer slices a manifest lists, by rank; empty for an unsharded checkpoint. A sharded
   * one must list exactly one slice per rank of one world size.
   */
  static List<Manifest.Entry> entries(Path dir, Manifest manifest) throws CorruptCheckpointException {
    List<Manifest.Entry> slices = new ArrayList<>();
    int world = -1;
    for (Manifest.Entry e : manifest.files()) {
      int[] slice = CheckpointFormat.sliceOf(e.name());
      if (slice == null) {
        continue;
      }
      if (world >= 0 && slice[1] != world || slice[0] != slices.size()) {
        throw new CorruptCheckpointException(dir + ": " + CheckpointFormat.MANIFEST_FILE + " lists " + e.name()
            + " where " + CheckpointFormat.optimizerSliceName(slices.size(), world < 0 ? slice[1] : world)
            + " was expected; the manifest is corrupt");
      }
      world = slice[1];
      slices.add(e);
    }
    if (slices.size() != Math.max(0, world)
        || (manifest.formatVersion() == CheckpointFormat.SHARDED_FORMAT_VERSION) == slices.isEmpty()) {
      throw new CorruptCheckpointException(dir + ": " + CheckpointFormat.MANIFEST_FILE + " (format version "
          + manifest.formatVersion() + ") lists " + slices.size() + " optimizer slices of a world of " + world
          + "; a version-" + CheckpointFormat.SHARDED_FORMAT_VERSION + " manifest must list one per rank, a version-"
          + CheckpointFormat.FORMAT_VERSION + " one none; the manifest is corrupt");
    }
    return slices;
  }
}
