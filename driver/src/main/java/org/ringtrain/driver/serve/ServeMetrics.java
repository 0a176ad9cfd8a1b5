/*
 * ServeMetrics: the server's Prometheus metrics (requests, latency, tokens, queue depth, errors,
 * batching) and their text exposition. It measures nothing itself; the handler and the schedulers
 * report into it.
 */
package org.ringtrain.driver.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.IntSupplier;

/** One registry per server, so two servers in one JVM (tests) do not share counts. */
final class ServeMetrics {
  /** Content type of {@link #scrape()}: the Prometheus text format 0.0.4. */
  static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests = Counter.builder().name("ringtrain_serve_requests_total")
      .help("HTTP requests by route and status code").labelNames("route", "code").register(registry);
  private final Counter errors = Counter.builder().name("ringtrain_serve_errors_total")
      .help("requests answered with a 4xx or 5xx, by status code").labelNames("code").register(registry);
  private final Histogram latency = Histogram.builder().name("ringtrain_serve_request_duration_seconds")
      .help("time from request to last byte, by route").labelNames("route").classicOnly()
      .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30).register(registry);
  private final Counter tokens = Counter.builder().name("ringtrain_serve_tokens_generated_total")
      .help("tokens sampled for generate requests").register(registry);
  private final Counter cancelled = Counter.builder().name("ringtrain_serve_generations_cancelled_total")
      .help("generations stopped early because their client went away").register(registry);
  private final Counter steps = Counter.builder().name("ringtrain_serve_decode_steps_total")
      .help("batched decode steps; rows / steps is the mean batch").register(registry);
  private final Counter rows = Counter.builder().name("ringtrain_serve_decode_rows_total")
      .help("sequence rows over all decode steps").register(registry);
  private final Counter classified = Counter.builder().name("ringtrain_serve_texts_classified_total")
      .help("texts classified").register(registry);
  private final Counter forwards = Counter.builder().name("ringtrain_serve_classify_forwards_total")
      .help("batched classify forwards; texts / forwards is the mean batch").register(registry);

  private final Map<String, IntSupplier> queues = new ConcurrentSkipListMap<>();

  ServeMetrics() {
    GaugeWithCallback.builder().name("ringtrain_serve_queue_depth")
        .help("requests waiting for a batch slot, by queue").labelNames("queue")
        .callback(cb -> queues.forEach((name, depth) -> cb.call(depth.getAsInt(), name))).register(registry);
  }

  /** Exposes {@code depth} as ringtrain_serve_queue_depth{queue=name}. */
  void queueDepth(String name, IntSupplier depth) {
    queues.put(name, depth);
  }

  void request(String route, int code, double seconds) {
    requests.labelValues(route, Integer.toString(code)).inc();
    latency.labelValues(route).observe(seconds);
    if (code >= 400) {
      errors.labelValues(Integer.toString(code)).inc();
    }
  }

  void tokenGenerated() {
    tokens.inc();
  }

  void generationCancelled() {
    cancelled.inc();
  }

  void decodeStep(int batchRows) {
    steps.inc();
    rows.inc(batchRows);
  }

  void classifyForward(int texts) {
    forwards.inc();
    classified.inc(texts);
  }

  /** Every metric in the Prometheus text format. */
  byte[] scrape() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    return out.toByteArray();
  }
}
