/*
 * Nd4jRuntime: the process-wide ND4J settings a rank or a benchmark applies before its maths runs
 * (how many threads BLAS, OpenMP and libnd4j's op pool use), a one-line description of the
 * backend and those settings, and the sgemm throughput probe used as the peak for model FLOPs
 * utilisation. It does not choose the numbers (the caller's config does, through
 * Threads.forRank) and it does not touch workspaces or memory limits.
 */
package org.ringtrain.ops.runtime;

import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ND4J's thread settings and sgemm peak for this JVM. Every setting is process-wide: ranks that
 * share a JVM (Spark local mode) share it, so they must apply the same {@link Threads}.
 */
public final class Nd4jRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(Nd4jRuntime.class);

  /** Side of the square sgemm {@link #sgemmPeakGflops()} times: 1024. */
  public static final int PEAK_PROBE_SIZE = 1024;

  private Nd4jRuntime() {
  }

  /**
   * Thread counts for ND4J.
   *
   * @param blas BLAS (OpenBLAS, for matmuls) and OpenMP threads, &gt;= 1
   * @param ops  threads of libnd4j's own pool, which runs the other ops (elementwise, softmax,
   *             layer norm), &gt;= 1
   */
  public record Threads(int blas, int ops) {

    /** Validates both counts. */
    public Threads {
      if (blas < 1 || ops < 1) {
        throw new IllegalArgumentException("ND4J thread counts must be >= 1, but found blas=" + blas + ", ops="
            + ops + "; resolve a configured 0 with Threads.forRank first");
      }
    }

    /**
     * A training rank's policy: {@code threadsPerRank} BLAS and OpenMP threads, or the task's CPUs
     * when it is 0; {@code opThreadsPerRank} op-pool threads, or as many as BLAS when it is 0.
     *
     * @param threadsPerRank   configured BLAS and OpenMP threads; 0 = {@code taskCpus}
     * @param opThreadsPerRank configured op-pool threads; 0 = the BLAS count
     * @param taskCpus         CPUs the scheduler gave the rank's task (spark.task.cpus), &gt;= 1
     */
    public static Threads forRank(int threadsPerRank, int opThreadsPerRank, int taskCpus) {
      if (threadsPerRank < 0 || opThreadsPerRank < 0 || taskCpus < 1) {
        throw new IllegalArgumentException("expected threadsPerRank >= 0, opThreadsPerRank >= 0 and taskCpus >= 1,"
            + " but found " + threadsPerRank + ", " + opThreadsPerRank + " and " + taskCpus
            + "; 0 means the default for the first two");
      }
      int blas = threadsPerRank > 0 ? threadsPerRank : taskCpus;
      return new Threads(blas, opThreadsPerRank > 0 ? opThreadsPerRank : blas);
    }
  }

  /**
   * Applies {@code threads} to this JVM: BLAS and OpenMP get {@link Threads#blas()}, libnd4j's
   * pool {@link Threads#ops()} (Environment's master threads; Environment.setMaxThreads alone has
   * no effect in this ND4J build).
   */
  public static void useThreads(Threads threads) {
    Nd4j.getEnvironment().setMaxMasterThreads(threads.ops());
    NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads.blas());
    Nd4j.factory().blas().setMaxThreads(threads.blas());
    LOG.debug("ND4J threads: BLAS and OpenMP {}, ops {}", threads.blas(), threads.ops());
  }

  /** The thread counts in effect now, as BLAS and libnd4j report them. */
  public static Threads currentThreads() {
    return new Threads(Nd4j.factory().blas().getMaxThreads(), Nd4j.getEnvironment().maxMasterThreads());
  }

  /** OpenMP's thread count in effect now. */
  public static int openMpThreads() {
    return NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
  }

  /** One line for the logs: the backend, its executioner and the thread counts in effect. */
  public static String describe() {
    Threads now = currentThreads();
    return "ND4J backend " + Nd4j.getBackend().getClass().getSimpleName() + " ("
        + Nd4j.getExecutioner().getClass().getSimpleName() + "), threads OpenMP " + openMpThreads() + ", BLAS "
        + now.blas() + ", op pool " + now.ops();
  }

  /**
   * One float32 matmul {@code [m, k] x [k, n]}.
   *
   * @param m rows of the left operand and of the output, &gt;= 1
   * @param k the shared dimension, &gt;= 1
   * @param n columns of the right operand and of the output, &gt;= 1
   */
  public record Gemm(int m, int k, int n) {

    /** Validates the sizes. */
    public Gemm {
      if (m < 1 || k < 1 || n < 1) {
        throw new IllegalArgumentException("gemm sizes must be >= 1, but found m=" + m + ", k=" + k + ", n=" + n);
      }
    }

    /** Floating-point operations of one multiply: 2 m k n. */
    public double flops() {
      return 2.0 * m * k * n;
    }
  }

  /**
   * This JVM's sgemm GFLOP/s with the threads in effect, the peak training reports model FLOPs
   * utilisation against: {@code [1024, 1024] x [1024, 1024]}, best of 3 after a warm-up.
   */
  public static double sgemmPeakGflops() {
    int size = PEAK_PROBE_SIZE;
    return sgemmGflops(List.of(new Gemm(size, size, size)), 3, 1);
  }

  /**
   * sgemm throughput on {@code shapes} through {@code Nd4j.gemm} into preallocated outputs, the
   * fast path the model's layers use. The operands of every shape are allocated and multiplied
   * once (warm-up) before timing; then each round times {@code reps} multiplies of every shape,
   * and the best round's total FLOPs over its total time is returned.
   *
   * @param shapes the matmuls of one round, not empty
   * @param rounds timed rounds, &gt;= 1
   * @param reps   multiplies of each shape per round, &gt;= 1
   * @return GFLOP/s of the best round, &gt; 0
   */
  public static double sgemmGflops(List<Gemm> shapes, int rounds, int reps) {
    if (shapes == null || shapes.isEmpty() || rounds < 1 || reps < 1) {
      throw new IllegalArgumentException("expected at least one shape, rounds >= 1 and reps >= 1, but found shapes="
          + shapes + ", rounds=" + rounds + ", reps=" + reps);
    }
    int count = shapes.size();
    INDArray[] a = new INDArray[count];
    INDArray[] b = new INDArray[count];
    INDArray[] c = new INDArray[count];
    try {
      double flopsPerRound = 0;
      for (int s = 0; s < count; s++) {
        Gemm g = shapes.get(s);
        a[s] = Nd4j.rand(DataType.FLOAT, g.m(), g.k());
        b[s] = Nd4j.rand(DataType.FLOAT, g.k(), g.n());
        c[s] = Nd4j.create(DataType.FLOAT, g.m(), g.n());
        Nd4j.gemm(a[s], b[s], c[s], false, false, 1.0, 0.0);
        flopsPerRound += g.flops() * reps;
      }
      long best = Long.MAX_VALUE;
      for (int round = 0; round < rounds; round++) {
        long t0 = System.nanoTime();
        for (int s = 0; s < count; s++) {
          for (int r = 0; r < reps; r++) {
            Nd4j.gemm(a[s], b[s], c[s], false, false, 1.0, 0.0);
          }
        }
        best = Math.min(best, System.nanoTime() - t0);
      }
      return flopsPerRound / Math.max(1, best); // FLOP per ns = GFLOP/s
    } finally {
      closeAll(a);
      closeAll(b);
      closeAll(c);
    }
  }

  private static void closeAll(INDArray[] arrays) {
    for (INDArray array : arrays) {
      if (array != null) {
        array.close();
      }
    }
  }
}
