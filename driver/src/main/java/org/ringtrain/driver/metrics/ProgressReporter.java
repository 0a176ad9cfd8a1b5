// The driver's progress line: one INFO line per step event (rank 0's view),
// plus validation results and lifecycle events. ETA comes from the recent
// step rate, so a slow start does not distort it for the whole run.
package org.ringtrain.driver.metrics;

import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs a human-readable progress line per metrics event. */
public final class ProgressReporter implements MetricsSink {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);
  private static final double SMOOTHING = 0.2;

  private final long logEvery;
  private double stepMsAverage = Double.NaN;

  /** Logs every {@code logEvery}-th step (and always the last). */
  public ProgressReporter(long logEvery) {
    this.logEvery = Math.max(1, logEvery);
  }

  @Override
  public void accept(MetricsEvent e) {
    switch (e.event()) {
      case "step" -> step(e);
      case "eval" -> log(String.format(Locale.ROOT, "step %d | val loss %.4f | perplexity %.2f",
          (long) e.number("step"), e.number("val_loss"), e.number("perplexity")));
      case "checkpoint" -> log("step " + (long) e.number("step") + " | checkpoint " + e.fields().get("path"));
      case "resume" -> log(e.number("step") == 0 && !e.fields().containsKey("path")
          ? "starting from initial parameters, stage attempt " + (long) e.number("attempt")
          : "resumed from step " + (long) e.number("step") + " (" + e.fields().get("path") + "), stage attempt "
              + (long) e.number("attempt"));
      case "failure" -> LOG.warn("training stage failed: {}", e.fields().get("message"));
      case "done" -> log(String.format(Locale.ROOT, "done: %d steps, final loss %.4f",
          (long) e.number("step"), e.number("loss")));
      default -> LOG.debug("metrics: {}", e);
    }
  }

  private void step(MetricsEvent e) {
    long step = (long) e.number("step");
    long total = (long) e.number("total_steps");
    double ms = e.number("step_ms");
    stepMsAverage = Double.isNaN(stepMsAverage) ? ms : SMOOTHING * ms + (1 - SMOOTHING) * stepMsAverage;
    if (step % logEvery != 0 && step != total) {
      return;
    }
    long etaMs = (long) (stepMsAverage * Math.max(0, total - step));
    log(String.format(Locale.ROOT, "step %d/%d | loss %.4f | lr %.2e | %,.0f tok/s | %.0f ms | ETA %s",
        step, total, e.number("loss"), e.number("lr"), e.number("tokens_per_s"), ms, eta(etaMs)));
  }

  private void log(String line) {
    LOG.info(line);
  }

  static String eta(long ms) {
    Duration d = Duration.ofMillis(ms);
    if (d.toHours() > 0) {
      return d.toHours() + "h" + String.format(Locale.ROOT, "%02dm", d.toMinutesPart());
    }
    return d.toMinutes() + "m" + String.format(Locale.ROOT, "%02ds", d.toSecondsPart());
  }
}
