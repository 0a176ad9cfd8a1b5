// How the jobs make their Spark context: ringtrain's serializer settings and,
// when no master was given (not under spark-submit), local mode with one slot
// per rank. spark-submit's own settings always win.
package org.ringtrain.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** Builds the Spark context of a job. */
final class SparkContexts {

  private SparkContexts() {
  }

  /** The settings a job runs with; {@code localSlots} is used only when no master is configured. */
  static SparkConf conf(String appName, int localSlots) {
    SparkConf conf = new SparkConf().setAppName(appName)
        .setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .setIfMissing("spark.kryo.registrator", "org.ringtrain.driver.serde.RingtrainKryoRegistrator")
        .setIfMissing("spark.ui.showConsoleProgress", "false");
    if (!conf.contains("spark.master")) {
      conf.setMaster(localMaster(localSlots))
          .setIfMissing("spark.driver.host", "127.0.0.1")
          .setIfMissing("spark.driver.bindAddress", "127.0.0.1")
          .setIfMissing("spark.ui.enabled", "false");
    }
    return conf;
  }

  /** local[N, 4]: N slots, and a failed barrier stage is retried (up to 4 task failures). */
  static String localMaster(int slots) {
    return "local[" + slots + ",4]";
  }

  /**
   * The Hadoop settings a job will run with, known before Spark starts: every {@code spark.hadoop.*}
   * entry of {@code conf} without its prefix (object-store endpoints, credentials providers...),
   * the same rule Spark applies to its own Hadoop configuration.
   */
  static java.util.Map<String, String> hadoopSettings(SparkConf conf) {
    java.util.Map<String, String> out = new java.util.HashMap<>();
    for (scala.Tuple2<String, String> e : conf.getAll()) {
      if (e._1().startsWith("spark.hadoop.")) {
        out.put(e._1().substring("spark.hadoop.".length()), e._2());
      }
    }
    return out;
  }

  static JavaSparkContext start(SparkConf conf) {
    return new JavaSparkContext(conf);
  }
}
