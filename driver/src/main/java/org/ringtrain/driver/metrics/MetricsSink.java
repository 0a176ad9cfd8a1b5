// Where metrics go on the driver. Sinks are called one event at a time (never
// concurrently), in arrival order: from the thread serving the current rank 0
// connection, or from a driver thread publishing its own event (a stage failure).
package org.ringtrain.driver.metrics;

/** A consumer of metrics events on the driver. */
@FunctionalInterface
public interface MetricsSink {
  /** Handles one event; must not block for long. */
  void accept(MetricsEvent event);
}
