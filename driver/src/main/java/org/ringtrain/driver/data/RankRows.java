// RankRows: deals fixed-width training rows (classifier examples, say) to the
// ranks of a data-parallel run: a seeded global shuffle, then equal contiguous
// blocks, one partition per rank, as the barrier stage needs. It does not read
// or encode data; CorpusLoader does the same for a language model's corpus.
package org.ringtrain.driver.data;

import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

/** Shuffles rows and splits them into exactly worldSize partitions of equal size. */
public final class RankRows {

  private RankRows() {
  }

  /**
   * The rows in a seeded random order, as {@code worldSize} partitions of {@code count / worldSize}
   * rows each; the last {@code count % worldSize} rows of that order are dropped (fewer than one
   * per rank), so every rank steps through the same number of rows.
   *
   * @param count the number of rows in {@code rows} (the caller has counted them already)
   * @throws IllegalArgumentException when there are fewer rows than ranks
   */
  public static JavaRDD<int[]> shuffledEvenly(JavaRDD<int[]> rows, long count, int worldSize, long seed) {
    if (count < worldSize) {
      throw new IllegalArgumentException("there are " + count + " rows for " + worldSize + " ranks; every rank"
          + " needs at least one: give more data or use fewer ranks (worldSize)");
    }
    long perRank = count / worldSize;
    long kept = perRank * worldSize;
    return rows.zipWithIndex()
        .mapToPair(p -> new Tuple2<>(mix(p._2() ^ seed), p._1()))
        .sortByKey()
        .values()
        .zipWithIndex()
        .filter(p -> p._2() < kept)
        .mapToPair(p -> new Tuple2<>(p._2(), p._1()))
        .repartitionAndSortWithinPartitions(new RankBlockPartitioner(worldSize, 0, perRank))
        .values();
  }

  /** SplitMix64's finaliser: a bijection of longs that scatters consecutive indices. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
