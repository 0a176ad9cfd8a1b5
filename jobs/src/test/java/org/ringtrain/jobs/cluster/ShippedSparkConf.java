// The Spark settings the training runs of the hosts tests and the hosts training benchmark use:
// conf/spark-defaults.conf as shipped, resized for one-core executors on a StandaloneCluster, or
// the same in local mode. It starts nothing; the caller makes the SparkContext.
package org.ringtrain.jobs.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.spark.SparkConf;

/** SparkConf builders over the shipped defaults. */
final class ShippedSparkConf {
  private ShippedSparkConf() {
  }

  /** The shipped settings on {@code cluster}: one core and {@code executorMemory} per executor, a rank each. */
  static SparkConf onCluster(StandaloneCluster cluster, String executorMemory, String appName) throws IOException {
    SparkConf conf = shipped();
    cluster.settings(executorMemory).forEach(conf::set);
    return conf.set("spark.task.cpus", "1").set("spark.app.name", appName);
  }

  /** The same settings in local mode ({@code master}, e.g. local[4,4]): loopback, no cluster secret. */
  static SparkConf local(String master, String appName) throws IOException {
    return shipped().setMaster(master).setAppName(appName).set("spark.task.cpus", "1")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false").set("spark.authenticate", "false")
        .set("spark.network.crypto.enabled", "false").set("spark.io.encryption.enabled", "false");
  }

  /** conf/spark-defaults.conf of this checkout, found from a module directory (tests) or the root (benchmarks). */
  private static SparkConf shipped() throws IOException {
    Path file = null;
    for (Path dir = Path.of("").toAbsolutePath(); dir != null && file == null; dir = dir.getParent()) {
      Path candidate = dir.resolve("conf/spark-defaults.conf");
      file = Files.isRegularFile(candidate) ? candidate : null;
    }
    if (file == null) {
      throw new IOException("conf/spark-defaults.conf not found above " + Path.of("").toAbsolutePath()
          + "; run from the ringtrain checkout");
    }
    Properties shipped = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      shipped.load(in);
    }
    SparkConf conf = new SparkConf(false);
    shipped.stringPropertyNames().forEach(k -> conf.set(k, shipped.getProperty(k).trim()));
    return conf;
  }
}
