/**
 * ND4J runtime concerns in one place: the thread policy of a rank (BLAS/OpenMP threads and
 * libnd4j's own op pool), the sgemm peak probe used for MFU, and JavaCPP's off-heap counters and
 * limits (NativeMemory).
 *
 * <p>Must not import model packages, Spark or the ring. Stability: internal to ringtrain.
 */
package org.ringtrain.ops.runtime;
