/**
 * bench/serve.sh: the model server's throughput and latency under concurrent loopback clients,
 * with and without batching. Stability: internal; not shipped.
 */
package org.ringtrain.bench.serve;
