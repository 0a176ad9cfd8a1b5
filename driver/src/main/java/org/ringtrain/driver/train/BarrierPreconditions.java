// What a cluster must offer before one long barrier stage can start, checked
// in seconds on the driver. Spark's own check for missing slots retries for
// about ten minutes (maxConcurrentTasksCheck), and dynamic allocation can take
// executors away under a running barrier stage.
package org.ringtrain.driver.train;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;

/** Checks of the Spark configuration and capacity for a barrier stage of {@code worldSize} tasks. */
final class BarrierPreconditions {

  private BarrierPreconditions() {
  }

  /**
   * Refuses configurations that cannot run the stage and returns warnings for ones that run badly.
   *
   * @param slots task slots the cluster offers now (total executor cores / spark.task.cpus)
   * @throws IllegalArgumentException with what to change
   */
  static List<String> check(SparkConf conf, int worldSize, int slots) {
    if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
      throw new IllegalArgumentException("spark.dynamicAllocation.enabled=true: a barrier stage needs all "
          + worldSize + " ranks for its whole life and Spark does not support dynamic allocation with barrier "
          + "stages; set spark.dynamicAllocation.enabled=false and spark.executor.instances=" + worldSize);
    }
    int taskCpus = conf.getInt("spark.task.cpus", 1);
    if (slots < worldSize) {
      throw new IllegalArgumentException("worldSize=" + worldSize + " needs " + worldSize + " concurrent task "
          + "slots but the cluster offers " + slots + " (spark.task.cpus=" + taskCpus + "); lower worldSize or "
          + "add executors");
    }
    List<String> warnings = new ArrayList<>();
    if (conf.contains("spark.executor.cores")) {
      int executorCores = conf.getInt("spark.executor.cores", 1);
      if (executorCores / taskCpus > 1) {
        warnings.add("each executor has " + executorCores / taskCpus + " task slots (spark.executor.cores="
            + executorCores + ", spark.task.cpus=" + taskCpus + "), so several ranks may share one executor and "
            + "its ND4J thread pools; set spark.task.cpus=spark.executor.cores for one rank per executor");
      }
    }
    if (conf.getBoolean("spark.speculation", false)) {
      warnings.add("spark.speculation=true has no effect on barrier stages; set it to false");
    }
    return warnings;
  }
}
