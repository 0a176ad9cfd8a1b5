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

  static JavaSparkContext start(SparkConf conf) {
    return new JavaSparkContext(conf);
  }
}
