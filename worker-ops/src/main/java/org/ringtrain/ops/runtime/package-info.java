/**
 * How ND4J runs in this JVM, kept in one place: the thread policy a training rank or a benchmark
 * applies (BLAS and OpenMP threads, libnd4j's own op pool), a description of the backend for the
 * logs, and the sgemm probe that model FLOPs utilisation is measured against.
 *
 * <p>Stability: internal to ringtrain; the driver's rank task and the benchmarks are its users.
 */
package org.ringtrain.ops.runtime;
