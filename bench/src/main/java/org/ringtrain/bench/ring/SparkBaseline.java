// The baseline the ring replaces: Spark's own way to average a vector across
// partitions (treeAggregate to the driver, broadcast back, read by every
// partition), as DL4J's parameter averaging did it, in local[N] in this JVM.
// It is not a model of a cluster: in local mode the driver and the executors
// share one JVM, so the broadcast is read without crossing a network.
package org.ringtrain.bench.ring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;

/** Times Spark's treeAggregate + broadcast round of one float[] per partition. */
final class SparkBaseline {
  /** treeAggregate's default depth. */
  private static final int TREE_DEPTH = 2;

  /**
   * Median times in ms per size, timed rounds per size, the Spark version, and whether the cache
   * lost a vector (then the times include remaking it).
   */
  record Result(double[] medianMs, int[] rounds, String sparkVersion, boolean recomputed) {
  }

  private SparkBaseline() {
  }

  /**
   * In a local[{@code worldSize}] SparkContext, for each size: makes one float[] per partition
   * (value partition + 1, made inside the partition and cached, untimed), then times
   * treeAggregate (sum) + broadcast of the sum + a job in which every partition reads the
   * broadcast value. The {@code warmup} untimed rounds run before the first size only. A size
   * stops after fewer than {@code iters} timed rounds (at least one) once its rounds have taken
   * {@code budgetSeconds}: at 256 MiB a round takes tens of seconds on 2 busy cores.
   */
  static Result medianMs(int worldSize, int[] sizesMib, int warmup, int iters, int budgetSeconds) {
    SparkConf conf = new SparkConf()
        .setMaster("local[" + worldSize + "]")
        .setAppName("ringtrain-ring-bench")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false")
        .set("spark.driver.maxResultSize", "0") // N partial sums of up to 256 MiB each exceed the 1g default
        .set("spark.local.dir", System.getProperty("java.io.tmpdir"));
    double[] medians = new double[sizesMib.length];
    int[] rounds = new int[sizesMib.length];
    boolean recomputed = false;
    try (JavaSparkContext sc = new JavaSparkContext(conf)) {
      sc.setLogLevel("WARN");
      List<Integer> partitions = new ArrayList<>();
      for (int p = 0; p < worldSize; p++) {
        partitions.add(p);
      }
      for (int s = 0; s < sizesMib.length; s++) {
        int count = (sizesMib[s] << 20) / Float.BYTES;
        LongAccumulator made = sc.sc().longAccumulator("vectors made");
        JavaRDD<float[]> vectors = sc.parallelize(partitions, worldSize).map(p -> {
          made.add(1);
          float[] v = new float[count];
          Arrays.fill(v, p + 1);
          return v;
        }).persist(StorageLevel.MEMORY_ONLY());
        vectors.count();
        long[] nanos = new long[iters];
        long budgetEnd = Long.MAX_VALUE;
        float expected = worldSize * (worldSize + 1) / 2f;
        int untimed = s == 0 ? warmup : 0; // class loading and JIT: once per SparkContext
        for (int i = 0; i < untimed + iters; i++) {
          long t0 = System.nanoTime();
          float[] sum = vectors.treeAggregate(new float[0], SparkBaseline::seq, SparkBaseline::comb, TREE_DEPTH);
          Broadcast<float[]> update = sc.broadcast(sum);
          List<Float> seen = vectors.mapPartitions(it -> {
            float[] v = update.value();
            return List.of(v[0] + v[v.length - 1]).iterator();
          }).collect();
          long t1 = System.nanoTime();
          if (i == untimed) {
            budgetEnd = t0 + budgetSeconds * 1_000_000_000L;
          }
          if (i >= untimed) {
            nanos[rounds[s]++] = t1 - t0;
          }
          if (sum.length != count || sum[0] != expected || seen.size() != worldSize
              || seen.get(worldSize - 1) != 2 * expected) {
            throw new IllegalStateException("Spark sum wrong at N=" + worldSize + ", " + sizesMib[s]
                + " MiB: expected " + count + " floats of " + expected + " but found " + sum.length
                + " floats, first " + (sum.length > 0 ? sum[0] : Float.NaN) + ", partitions saw " + seen);
          }
          update.destroy();
          if (t1 > budgetEnd) {
            break;
          }
        }
        // More vectors made than partitions means the cache lost some and the timing includes making them.
        recomputed |= made.value() > worldSize;
        vectors.unpersist(true);
        medians[s] = rounds[s] > 0 ? Timing.medianMs(Arrays.copyOf(nanos, rounds[s])) : Double.NaN;
      }
      return new Result(medians, rounds, sc.version(), recomputed);
    }
  }

  /**
   * Folds a partition's vector into the accumulator. The empty zero value stands for "nothing
   * yet": the first vector is copied, so a cached vector is never changed and no N-sized zero
   * array is shipped with every task.
   */
  private static float[] seq(float[] acc, float[] v) {
    if (acc.length == 0) {
      return v.clone();
    }
    add(acc, v);
    return acc;
  }

  /** Merges two partial sums (both owned by the caller, so the first may be changed in place). */
  private static float[] comb(float[] a, float[] b) {
    if (a.length == 0) {
      return b;
    }
    if (b.length == 0) {
      return a;
    }
    add(a, b);
    return a;
  }

  private static void add(float[] acc, float[] v) {
    for (int i = 0; i < acc.length; i++) {
      acc[i] += v[i];
    }
  }
}
