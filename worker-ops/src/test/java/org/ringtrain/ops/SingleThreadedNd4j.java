/*
 * SingleThreadedNd4j: pins ND4J and its BLAS to one thread for the worker-ops tests. Test code
 * only; training and the benchmark keep ND4J's default (all cores).
 */
package org.ringtrain.ops;

import org.nd4j.linalg.factory.Nd4j;

/**
 * The tests' tensors are tiny, so threads only add synchronisation; on a loaded 2-core machine
 * ND4J's spinning worker threads made one small forward pass ~10x slower (150 ms against 15 ms
 * measured), enough to time the gradient checks out. Call {@link #apply()} from a test class's
 * {@code @BeforeAll}.
 */
public final class SingleThreadedNd4j {

  private SingleThreadedNd4j() {
  }

  /** Sets ND4J's op threads and the BLAS threads to 1 for this JVM. */
  public static void apply() {
    Nd4j.getEnvironment().setMaxThreads(1);
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.factory().blas().setMaxThreads(1);
  }
}
