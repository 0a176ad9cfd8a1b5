// Training progress in the Spark UI. Spark reads a job's description once, when
// the job is submitted, and the training job runs for hours: so at each of ~20
// milestones this sink submits a job over zero partitions whose description is
// the progress ("ringtrain train: step 1200/5000, loss 1.83"). Such a job needs
// no task slot (all slots belong to the barrier stage) and finishes at once;
// the UI lists it in the training's job group. Not a metrics store.
package org.ringtrain.driver.train;

import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.driver.metrics.MetricsSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Posts progress milestones to the Spark UI as zero-task jobs in the training's job group. */
final class SparkUiProgress implements MetricsSink {
  private static final Logger LOG = LoggerFactory.getLogger(SparkUiProgress.class);
  /** Milestones per run: enough to follow a run, few enough not to crowd the jobs page. */
  static final int MILESTONES = 20;

  private final JavaSparkContext sc;
  private final String jobGroup;
  private final long every;

  SparkUiProgress(JavaSparkContext sc, String jobGroup, long totalSteps) {
    this.sc = sc;
    this.jobGroup = jobGroup;
    this.every = Math.max(1, totalSteps / MILESTONES);
  }

  @Override
  public void accept(MetricsEvent e) {
    if (!"step".equals(e.event())) {
      return;
    }
    long step = (long) e.number("step");
    long total = (long) e.number("total_steps");
    if (step % every != 0 && step != total) {
      return;
    }
    String description = String.format(Locale.ROOT, "ringtrain train: step %d/%d, loss %.2f", step, total,
        e.number("loss"));
    try {
      // Job properties are per thread: this sets them for the metrics thread only.
      sc.setJobGroup(jobGroup, description, false);
      sc.emptyRDD().count();
    } catch (RuntimeException ex) {
      LOG.debug("could not post progress to the Spark UI: {}", ex.toString());
    }
  }
}
