/*
 * SparkJob: a running Spark application of one ringtrain job, the handle the driver's entry points
 * (CorpusLoader, GptTrainer, GptEvaluator, TokenShards, the classifier jobs) take from the jobs
 * module, which never names a Spark type. Closing it stops Spark. It is not a place for job logic.
 */
package org.ringtrain.driver.launch;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.ringtrain.driver.fs.HadoopSettings;

/** A started Spark application; {@link #close()} stops it. Made by {@link SparkJobConf#start()}. */
public final class SparkJob implements AutoCloseable {
  private final SparkSession session;
  private final JavaSparkContext sparkContext;

  SparkJob(SparkSession session) {
    this.session = session;
    this.sparkContext = JavaSparkContext.fromSparkContext(session.sparkContext());
  }

  /** The Spark SQL session. */
  public SparkSession session() {
    return session;
  }

  /** The Spark context, for RDD work. */
  public JavaSparkContext sparkContext() {
    return sparkContext;
  }

  /** A snapshot of the running context's Hadoop configuration ({@link HadoopSettings#of(JavaSparkContext)}). */
  public HadoopSettings hadoopSettings() {
    return HadoopSettings.of(sparkContext);
  }

  /** Stops Spark (the session and its context). */
  @Override
  public void close() {
    session.stop();
  }
}
