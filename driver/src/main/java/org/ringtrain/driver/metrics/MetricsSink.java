// Where metrics go on the driver. Sinks are called from the metrics server's
// thread, one event at a time, in arrival order.
package org.ringtrain.driver.metrics;

/** A consumer of metrics events on the driver. */
@FunctionalInterface
public interface MetricsSink {
  /** Handles one event; must not block for long. */
  void accept(MetricsEvent event);
}
