/*
 * OptimizerSlices: the AdamW state of a sharded checkpoint as verified files, not yet in memory:
 * each slice file's owned ranges and where their m and v lie in it. A resuming rank reads only the
 * bytes of each file that overlap the ranges it owns now, whatever world size wrote them; a run
 * without sharding reads them all. It does not verify checksums (CheckpointReader did, one
 * streaming pass per file, before handing this out) and does not decide which ranges a rank owns.
 */
package org.ringtrain.driver.checkpoint;

import java.io.IOException;
import java.util.List;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.io.FlatBufferIo;
import org.ringtrain.ops.optim.AdamW;
import org.ringtrain.ops.optim.OwnedRanges;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * The optimizer slices of one verified checkpoint, read on demand: {@link #shard} allocates and
 * reads {@code 8 x owned elements} bytes (m and v of the owned ranges only), {@link #assemble} the
 * whole state. The slices partition the parameters (checked when the checkpoint was read), so every
 * owned element is read exactly once. Reads go through the file system's own checksums (local
 * files' .crc, HDFS block checksums) as any read does; the SHA-256 of each whole file was checked
 * when the checkpoint was read.
 */
public final class OptimizerSlices {

  private final FileSystem fs;
  private final Path dir;
  private final ParameterLayout layout;
  private final AdamW.Config config;
  private final long step;
  private final List<String> names; // by rank of the writing run
  private final List<OptimizerSlice.Header> headers;
  private long bytesRead;

  OptimizerSlices(FileSystem fs, Path dir, ParameterLayout layout, AdamW.Config config, long step, List<String> names,
      List<OptimizerSlice.Header> headers) {
    this.fs = fs;
    this.dir = dir;
    this.layout = layout;
    this.config = config;
    this.step = step;
    this.names = List.copyOf(names);
    this.headers = List.copyOf(headers);
  }

  /** The optimizer steps the saved state has taken. */
  public long step() {
    return step;
  }

  /** The saved AdamW hyper-parameters. */
  public AdamW.Config config() {
    return config;
  }

  /** The world size that wrote the slices (one file per rank). */
  public int writtenBy() {
    return names.size();
  }

  /**
   * A sharded AdamW over {@code owned} with the saved step count and the owned elements of m and v,
   * read from the parts of the slice files that overlap {@code owned} and nothing else.
   *
   * @throws IOException from the file system, or an EOFException if a file is shorter than its header says
   */
  public AdamW shard(OwnedRanges owned) throws IOException {
    bytesRead = 0;
    if (step == 0 || owned.elements() == 0) {
      return AdamW.restore(layout, config, owned, step, null, null); // no state yet, or none owned
    }
    INDArray m = Nd4j.zeros(DataType.FLOAT, owned.elements());
    INDArray v = Nd4j.zeros(DataType.FLOAT, owned.elements());
    try {
      byte[] chunk = new byte[FlatBufferIo.CHUNK_BYTES];
      for (int f = 0; f < names.size(); f++) {
        readOverlap(f, owned, m, v, chunk);
      }
      return AdamW.restore(layout, config, owned, step, m, v);
    } catch (IOException | RuntimeException e) {
      m.close();
      v.close();
      throw e;
    }
  }

  /** The whole state as an unsharded AdamW, for a run that resumes without sharding. */
  public AdamW assemble() throws IOException {
    return shard(OwnedRanges.all(layout));
  }

  /** Bytes of m and v the last {@link #shard} or {@link #assemble} read: 8 per owned element. */
  public long bytesRead() {
    return bytesRead;
  }

  /** Reads file {@code f}'s part of every owned range into m and v; opens the file only if it has one. */
  private void readOverlap(int f, OwnedRanges owned, INDArray m, INDArray v, byte[] chunk) throws IOException {
    OptimizerSlice.Header h = headers.get(f);
    Path file = new Path(dir, names.get(f));
    FSDataInputStream in = null;
    try {
      for (int j = 0; j < h.starts().length; j++) {
        for (int i = 0; i < owned.count(); i++) {
          long lo = Math.max(h.starts()[j], owned.start(i));
          long hi = Math.min(h.ends()[j], owned.end(i));
          if (lo >= hi) {
            continue;
          }
          if (in == null) {
            in = fs.open(file);
          }
          long inSlice = h.stateOffset(j) + lo - h.starts()[j]; // element of the slice's m (and v)
          long inOwned = owned.stateOffset(i) + lo - owned.start(i); // element of the rank's m (and v)
          INDArray[] targets = {m, v};
          for (int k = 0; k < 2; k++) {
            in.seek(h.dataOffset() + ((long) k * h.elements() + inSlice) * Float.BYTES);
            FlatBufferIo.read(in, targets[k], inOwned, hi - lo, chunk, file + (k == 0 ? " m" : " v")
                + " [" + lo + ", " + hi + ")");
            bytesRead += (hi - lo) * Float.BYTES;
          }
        }
      }
    } finally {
      if (in != null) {
        in.close();
      }
    }
  }
}
