/*
 * Nd4jRuntimeTest: the thread policy a rank resolves from its config, that the counts applied are
 * the ones ND4J, BLAS and OpenMP then report, and that the sgemm probe measures a positive
 * throughput. It does not judge how fast the machine is.
 */
package org.ringtrain.ops.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.runtime.Nd4jRuntime.Gemm;
import org.ringtrain.ops.runtime.Nd4jRuntime.Threads;

@Timeout(60)
class Nd4jRuntimeTest {

  @Test
  void aRankUsesItsConfiguredThreadsOrItsTaskCpus() {
    assertEquals(new Threads(4, 4), Threads.forRank(0, 0, 4), "0 and 0: the task's CPUs for both");
    assertEquals(new Threads(2, 1), Threads.forRank(0, 1, 2), "the default op pool of 1 beside the task's CPUs");
    assertEquals(new Threads(3, 3), Threads.forRank(3, 0, 8), "configured BLAS threads win over the task's CPUs");
    assertEquals(new Threads(3, 2), Threads.forRank(3, 2, 1));
  }

  @Test
  void impossibleThreadCountsAreRefusedWithTheValues() {
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> new Threads(0, 1));
    assertTrue(zero.getMessage().contains("blas=0, ops=1"), zero.getMessage());
    IllegalArgumentException cpus = assertThrows(IllegalArgumentException.class, () -> Threads.forRank(0, 0, 0));
    assertTrue(cpus.getMessage().contains("taskCpus >= 1") && cpus.getMessage().contains("0, 0 and 0"),
        cpus.getMessage());
  }

  @Test
  void theAppliedThreadsAreWhatNd4jBlasAndOpenMpReport() {
    Threads before = Nd4jRuntime.currentThreads();
    try {
      Nd4jRuntime.useThreads(new Threads(2, 1));
      assertEquals(2, Nd4j.factory().blas().getMaxThreads(), "BLAS threads");
      assertEquals(1, Nd4j.getEnvironment().maxMasterThreads(), "libnd4j op pool");
      assertEquals(2, Nd4jRuntime.openMpThreads(), "OpenMP threads");
      assertEquals(new Threads(2, 1), Nd4jRuntime.currentThreads());

      Nd4jRuntime.useThreads(new Threads(1, 2));
      assertEquals(1, Nd4j.factory().blas().getMaxThreads(), "BLAS threads");
      assertEquals(2, Nd4j.getEnvironment().maxMasterThreads(), "libnd4j op pool");
      assertEquals(1, Nd4jRuntime.openMpThreads(), "OpenMP threads");
      String line = Nd4jRuntime.describe();
      assertTrue(line.contains("OpenMP 1, BLAS 1, op pool 2"), line);
    } finally {
      Nd4jRuntime.useThreads(before);
    }
  }

  @Test
  void theSgemmProbeMeasuresAPositiveThroughput() {
    double gflops = Nd4jRuntime.sgemmGflops(List.of(new Gemm(8, 16, 4), new Gemm(3, 5, 7)), 2, 3);
    assertTrue(gflops > 0 && Double.isFinite(gflops), "GFLOP/s of a tiny sgemm: " + gflops);
    assertEquals(2.0 * 8 * 16 * 4, new Gemm(8, 16, 4).flops());
  }

  @Test
  void aProbeWithoutShapesOrRoundsIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> Nd4jRuntime.sgemmGflops(List.of(), 1, 1));
    assertThrows(IllegalArgumentException.class, () -> Nd4jRuntime.sgemmGflops(List.of(new Gemm(1, 1, 1)), 0, 1));
    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> new Gemm(1, 0, 1));
    assertTrue(shape.getMessage().contains("k=0"), shape.getMessage());
  }
}
