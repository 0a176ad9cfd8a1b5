/**
 * Training metrics on their way from rank 0 to the driver while the barrier stage runs: an
 * authenticated TCP channel ({@link org.ringtrain.driver.metrics.MetricsServer} on the driver,
 * {@link org.ringtrain.driver.metrics.MetricsClient} in rank 0), and the driver-side sinks: a
 * progress line, a JSON-lines log and TensorBoard event files on any Hadoop FileSystem; plus the
 * loss-curve PNG drawn from a JSON-lines log.
 *
 * <p>Must not import train, gpt or classify: it carries events, not models.
 *
 * <p>Stability: internal; the JSON-lines format is documented in docs/monitoring.md.
 */
package org.ringtrain.driver.metrics;
