// RankBlockPartitioner: routes a globally numbered sequence to its rank's partition, in
// contiguous blocks. It does NOT decide the split (SplitPlan does) and never hashes.
package org.ringtrain.driver.data;

import org.apache.spark.Partitioner;

/**
 * Spark partitioner over {@code Long} keys: key {@code k} goes to partition
 * {@code (k - base) / perRank}. Keys outside {@code [base, base + perRank * worldSize)} are a
 * bug in the caller and fail the task.
 */
final class RankBlockPartitioner extends Partitioner {

  private static final long serialVersionUID = 1L;

  private final int worldSize;
  private final long base;
  private final long perRank;

  RankBlockPartitioner(int worldSize, long base, long perRank) {
    if (worldSize < 1 || perRank < 1) {
      throw new IllegalArgumentException(
          "expected worldSize >= 1 and perRank >= 1, found worldSize=" + worldSize
              + " perRank=" + perRank);
    }
    this.worldSize = worldSize;
    this.base = base;
    this.perRank = perRank;
  }

  @Override
  public int numPartitions() {
    return worldSize;
  }

  @Override
  public int getPartition(Object key) {
    long k = (Long) key - base;
    if (k < 0 || k >= perRank * worldSize) {
      throw new IllegalStateException(
          "sequence number " + key + " outside the routed range [" + base + ", "
              + (base + perRank * worldSize) + ")");
    }
    return (int) (k / perRank);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof RankBlockPartitioner p
        && p.worldSize == worldSize && p.base == base && p.perRank == perRank;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(base * 31 + perRank) * 31 + worldSize;
  }
}
