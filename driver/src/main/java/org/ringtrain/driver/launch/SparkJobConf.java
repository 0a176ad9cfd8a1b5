/*
 * SparkJobConf: the Spark settings of one ringtrain job before Spark starts: ringtrain's serializer
 * settings and, when no master was given (not under spark-submit), local mode with one slot per
 * rank. spark-submit's own settings (system properties spark.*) always win. It starts nothing
 * until start(); reading the master or the Hadoop settings needs no running Spark.
 */
package org.ringtrain.driver.launch;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.ringtrain.driver.fs.HadoopSettings;
import scala.Tuple2;

/** The settings a job's Spark application will run with, and the way to start it. */
public final class SparkJobConf {
  /** Task failures a local master allows, so that a failed barrier stage is retried: 4. */
  public static final int LOCAL_MAX_FAILURES = 4;

  private final SparkConf conf;

  private SparkJobConf(SparkConf conf) {
    this.conf = conf;
  }

  /**
   * The settings of a job: {@code spark.*} system properties (what spark-submit passes), then, where
   * missing, the Kryo serializer with ringtrain's registrator and no console progress bar. Without a
   * configured master: {@link #localMaster localMaster(localSlots)}, the driver on 127.0.0.1 and no UI.
   *
   * @param appName    the application name Spark shows
   * @param localSlots task slots of the local master, used only when no master is configured; &gt;= 1
   */
  public static SparkJobConf of(String appName, int localSlots) {
    if (appName == null || appName.isBlank() || localSlots < 1) {
      throw new IllegalArgumentException("a Spark job needs a name and at least one local slot, but found name "
          + (appName == null ? "null" : "'" + appName + "'") + " and localSlots=" + localSlots);
    }
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
    return new SparkJobConf(conf);
  }

  /**
   * {@code local[N,4]}: N slots, and a failed barrier stage is retried (up to
   * {@value #LOCAL_MAX_FAILURES} task failures).
   */
  public static String localMaster(int slots) {
    return "local[" + slots + "," + LOCAL_MAX_FAILURES + "]";
  }

  /** The master the job will use, e.g. {@code local[2,4]} or {@code spark://host:7077}. */
  public String master() {
    return conf.get("spark.master");
  }

  /** Every Spark setting the job will start with (e.g. spark.executor.memory), as a new map. */
  public Map<String, String> settings() {
    Map<String, String> all = new LinkedHashMap<>();
    for (Tuple2<String, String> kv : conf.getAll()) {
      all.put(kv._1(), kv._2());
    }
    return all;
  }

  /**
   * The Hadoop settings the job will run with, known before Spark starts: its
   * {@code spark.hadoop.*} entries without the prefix ({@link HadoopSettings#ofSparkConf}).
   */
  public HadoopSettings hadoopSettings() {
    return HadoopSettings.ofSparkConf(conf);
  }

  /** Starts the application (a SparkSession and its context); the caller closes it to stop Spark. */
  public SparkJob start() {
    return new SparkJob(SparkSession.builder().config(conf.clone()).getOrCreate());
  }
}
