// The ring inside a real Spark barrier stage in local[4]: four tasks find each
// other through BarrierTaskContext.allGather, connect (over Unix domain
// sockets: local[4] is one host), all-reduce a vector and return it; the driver
// checks every task's result and transport.
package org.ringtrain.sync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.sync.ReduceOp;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingConfig;
import org.ringtrain.sync.RingException;
import org.ringtrain.sync.RingSecret;
import scala.Function1;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SparkBarrierRendezvousTest {
  private static final int WORLD = 4;
  private static final int COUNT = 100_003;
  private static JavaSparkContext sc;

  @BeforeAll
  static void startSpark() {
    SparkConf conf = new SparkConf().setMaster("local[" + WORLD + "]").setAppName("ring-barrier-test")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false").set("spark.barrier.sync.timeout", "60s");
    sc = new JavaSparkContext(conf);
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  @Test
  void fourBarrierTasksRendezvousAndAllReduceAVector() {
    RingConfig config = RingConfig.defaults("spark-test", RingSecret.generate())
        .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(30));
    JavaRDD<Integer> ranks = sc.parallelize(List.of(0, 1, 2, 3), WORLD);
    Function1<Iterator<Integer>, Iterator<float[]>> task =
        (Function1<Iterator<Integer>, Iterator<float[]>> & Serializable) partition -> {
          try (RingCommunicator ring = RingCommunicator.connect(config, new SparkBarrierRendezvous())) {
            float[] values = new float[COUNT];
            for (int i = 0; i < COUNT; i++) {
              values[i] = ring.rank() + i % 7;
            }
            ring.allReduce(values, ReduceOp.SUM);
            // One extra element reports whether both links ran over Unix domain sockets.
            float[] result = Arrays.copyOf(values, COUNT + 1);
            result[COUNT] = ring.leftPeer().isUnixSocket() && ring.rightPeer().isUnixSocket() ? 1f : 0f;
            return CollectionConverters.asScala(List.of(result).iterator());
          } catch (RingException e) {
            throw new IllegalStateException(e);
          }
        };
    float[][] results = (float[][]) ranks.rdd().barrier()
        .mapPartitions(task, false, ClassTag$.MODULE$.apply(float[].class)).collect();
    assertEquals(WORLD, results.length);
    for (int r = 0; r < WORLD; r++) {
      assertEquals(1f, results[r][COUNT], "task " + r + " should link to its same-host neighbours over unix sockets");
      for (int i = 0; i < COUNT; i++) {
        float expected = 0 + 1 + 2 + 3 + WORLD * (i % 7);
        if (results[r][i] != expected) {
          throw new AssertionError("task " + r + " index " + i + ": expected " + expected + ", got " + results[r][i]);
        }
      }
    }
  }

  @Test
  void outsideABarrierTaskTheRendezvousSaysWhereItMustRun() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new SparkBarrierRendezvous(null));
    assertTrue(e.getMessage().contains("barrier stage"), e.getMessage());
  }

}
