/**
 * The model-throughput benchmark: single-process training steps of the GPT decoder on ND4J, with
 * model FLOPs utilisation measured against ND4J's own sgemm in the same run.
 *
 * <p>Stability: a command for people, not an API; output format may change.
 */
package org.ringtrain.bench.model;
