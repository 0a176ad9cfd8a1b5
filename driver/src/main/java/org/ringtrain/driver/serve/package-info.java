/**
 * The online path: an HTTP server (Jetty 12) in front of a trained GPT and saved text classifiers,
 * with dynamic batching of decode steps and classify forwards, Prometheus metrics and an OpenAPI
 * document. Public API: {@link org.ringtrain.driver.serve.ServeSettings} and
 * {@link org.ringtrain.driver.serve.ModelServer}; the rest is internal.
 */
package org.ringtrain.driver.serve;
