/*
 * Parallel: the parallel-for of the fused kernels, over fixed chunks of rows on the rank's
 * threads. It is not a general task framework: no nesting, no futures, one call at a time per
 * caller thread.
 */
package org.ringtrain.ops.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs {@code body} once for every chunk {@code [k * chunk, min(count, (k + 1) * chunk))} of
 * {@code [0, count)}, on the calling thread plus up to {@code threads - 1} pool threads, where
 * {@code threads} is the rank's BLAS thread count ({@code Nd4j.factory().blas().getMaxThreads()},
 * which the trainer sets to its threads per rank): the kernels use the cores the matmuls use.
 *
 * <p>Chunk boundaries depend only on {@code count} and {@code chunk}, never on the thread count,
 * so a kernel that computes each chunk with the same code gives the same bits on any number of
 * threads. Threads take chunks from a shared counter, and the caller waits only for chunks that
 * were started: a pool thread that the OS has not scheduled yet takes no share of the work, which
 * keeps a loaded machine from stalling every kernel on its slowest thread.
 */
public final class Parallel {

  /** The work of one chunk: rows {@code [from, to)}. */
  @FunctionalInterface
  public interface Range {
    /** Processes rows {@code [from, to)}. */
    void run(int from, int to);
  }

  /** Spins this many times before parking while the last chunks finish elsewhere. */
  private static final int SPINS = 2000;
  private static final ForkJoinPool POOL = new ForkJoinPool(
      Math.max(1, Runtime.getRuntime().availableProcessors() - 1), pool -> {
        var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        thread.setName("ringtrain-kernels-" + thread.getPoolIndex());
        thread.setDaemon(true);
        return thread;
      }, null, false);

  private Parallel() {
  }

  /** The rank's thread count: OpenBLAS's, which the trainer and the benchmark set per rank. */
  public static int threads() {
    return Math.max(1, Nd4j.factory().blas().getMaxThreads());
  }

  /**
   * Runs {@code body} over {@code [0, count)} in chunks of {@code chunk} rows; see the class
   * comment. Rethrows the first exception a chunk threw, after every started chunk has ended.
   */
  public static void forChunks(int count, int chunk, Range body) {
    int chunks = (int) ((count + (long) chunk - 1) / chunk);
    int threads = Math.min(threads(), chunks);
    if (threads <= 1) {
      for (int from = 0; from < count; from += chunk) {
        body.run(from, Math.min(count, from + chunk));
      }
      return;
    }
    Job job = new Job(count, chunk, chunks, body, Thread.currentThread());
    for (int i = 1; i < threads; i++) {
      POOL.execute(job::work);
    }
    job.work();
    job.awaitChunks();
    Throwable failure = job.failure.get();
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
  }

  /** One forChunks call: a chunk counter shared by the threads that work on it. */
  private static final class Job {
    private final int count;
    private final int chunk;
    private final int chunks;
    private final Range body;
    private final Thread caller;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Job(int count, int chunk, int chunks, Range body, Thread caller) {
      this.count = count;
      this.chunk = chunk;
      this.chunks = chunks;
      this.body = body;
      this.caller = caller;
    }

    /** Takes chunks until none is left; a late pool thread finds none and returns at once. */
    void work() {
      for (int k = next.getAndIncrement(); k < chunks; k = next.getAndIncrement()) {
        int from = k * chunk;
        try {
          body.run(from, Math.min(count, from + chunk));
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        } finally {
          if (done.incrementAndGet() == chunks) {
            LockSupport.unpark(caller);
          }
        }
      }
    }

    void awaitChunks() {
      for (int spin = 0; done.get() < chunks; spin++) {
        if (spin < SPINS) {
          Thread.onSpinWait();
        } else {
          LockSupport.parkNanos(this, 50_000);
        }
      }
    }
  }
}
