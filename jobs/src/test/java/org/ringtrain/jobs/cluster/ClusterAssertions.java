// What the cluster tests share beyond the cluster itself: polling a condition with a deadline
// (executors registering, listener events arriving) and comparing parameter vectors. Not a fixture:
// it starts nothing.
package org.ringtrain.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.apache.spark.api.java.JavaSparkContext;

/** Static waits and comparisons for the tests of this package. */
final class ClusterAssertions {
  private ClusterAssertions() {
  }

  /** Polls {@code condition} every 200 ms; fails naming {@code what} when {@code timeout} passes first. */
  static void await(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  /** Waits until {@code sc} sees {@code n} live executors (the status tracker also lists the driver). */
  static void awaitExecutors(JavaSparkContext sc, int n, StandaloneCluster cluster, Duration timeout)
      throws InterruptedException {
    await(n + " executors registered with the driver; logs in " + cluster.dir(),
        () -> sc.sc().statusTracker().getExecutorInfos().length >= n + 1, timeout);
  }

  /** ||a − b|| / ||b|| in double precision; the lengths must match. */
  static double relativeDifference(float[] a, float[] b) {
    assertEquals(b.length, a.length);
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < a.length; i++) {
      diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
      norm += b[i] * (double) b[i];
    }
    return Math.sqrt(diff / norm);
  }
}
