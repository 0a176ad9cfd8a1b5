/**
 * Ring all-reduce between training ranks over TCP, or Unix domain sockets between ranks
 * on one host: rendezvous, an authenticated
 * handshake, pipelined reduce-scatter + all-gather, broadcast, barrier and an
 * asynchronous bucket API for overlapping communication with backward.
 *
 * <p>Entry point: {@link org.ringtrain.sync.RingCommunicator}. This package depends on the
 * JDK and SLF4J only; Spark is reached through the adapter package
 * {@code org.ringtrain.sync.spark}. The wire protocol is described in
 * {@code docs/architecture.md}.
 *
 * <p>Stability: public API. Classes without {@code public} are internal.
 */
package org.ringtrain.sync;
