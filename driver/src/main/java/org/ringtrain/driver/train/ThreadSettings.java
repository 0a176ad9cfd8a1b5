/*
 * ThreadSettings: how many threads each rank's ND4J uses; one validated record of the loop's
 * config. It applies nothing itself (the rank's ND4J runtime policy does).
 */
package org.ringtrain.driver.train;

import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Both counts are bounded by the cores a rank can use before Spark starts
 * ({@code TrainingPreflight.checkThreads}), not here: the record does not know the master.
 *
 * @param threadsPerRank   BLAS and OpenMP threads per rank; 0 = spark.task.cpus (default 0)
 * @param opThreadsPerRank threads of libnd4j's own pool for its non-BLAS ops (elementwise, softmax,
 *                         layer norm); 0 = threadsPerRank. Default 1: on the measured 2-core machine
 *                         the per-op fork/join cost more than it gained (docs/benchmarks.md)
 */
public record ThreadSettings(int threadsPerRank, int opThreadsPerRank) implements Serializable {

  /** Every default, keyed by setting. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("threadsPerRank", 0);
    d.put("opThreadsPerRank", 1);
    return d;
  }

  /** Validates every field. */
  public ThreadSettings {
    require(threadsPerRank >= 0, "threadsPerRank", threadsPerRank, "use 0 (follow spark.task.cpus) or more");
    require(opThreadsPerRank >= 0, "opThreadsPerRank", opThreadsPerRank, "use 0 (same as threadsPerRank) or more");
  }
}
