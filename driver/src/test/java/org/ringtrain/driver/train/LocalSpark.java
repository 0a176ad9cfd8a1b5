// The local SparkContext the training tests share the settings of: loopback only, no UI, and
// Kryo with the product's registrator and registration required (as the jobs run it), so that a
// class missing from RingtrainKryoRegistrator fails the test that ships it. Not a fixture with a
// lifecycle: each test class starts one in @BeforeAll and stops it in @AfterAll.
package org.ringtrain.driver.train;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** Starts local SparkContexts configured as the training tests need them. */
public final class LocalSpark {
  private LocalSpark() {
  }

  /**
   * A new local SparkContext.
   *
   * @param master  a local master such as {@code local[4]} or {@code local[2,4]} (with task retries)
   * @param appName the test class's name, shown in Spark's logs
   */
  public static JavaSparkContext start(String master, String appName) {
    return new JavaSparkContext(new SparkConf().setMaster(master).setAppName(appName)
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false")
        .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .set("spark.kryo.registrator", "org.ringtrain.driver.serde.RingtrainKryoRegistrator")
        .set("spark.kryo.registrationRequired", "true"));
  }
}
