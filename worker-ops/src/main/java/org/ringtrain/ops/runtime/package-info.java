/**
 * ND4J runtime concerns in one place: the thread policy of a rank (BLAS/OpenMP threads and
 * libnd4j's own op pool) and the sgemm peak probe used for MFU.
 *
 * <p>Must not import model packages, Spark or the ring. Stability: internal to ringtrain.
 */
package org.ringtrain.ops.runtime;
