/**
 * parameter-sync: the ring all-reduce between ranks over TCP, or Unix domain sockets on one host:
 * rendezvous, the authenticated handshake (set-up that strangers cannot stop), pipelined
 * reduce-scatter + all-gather, broadcast, barrier, asynchronous gradient buckets, the bf16 wire
 * codec, and timeouts that name the peer and the operation.
 *
 * <p>Must not import ND4J, org.ringtrain.ops or Spark outside the sync.spark adapter
 * (build/import-control.xml). Stability: RingCommunicator, RingConfig, RingSecret, WireCodec,
 * LinkTransport and ReduceOp are public API of the module; the rest is internal.
 */
package org.ringtrain.sync;
