// The wall-clock time of one training step and of its named phases, each phase
// measured by a try-with-resources lap so that a phase's time is taken exactly
// around the code it names. It only measures; which times become which metrics
// is RankLoop's business. A new phase (an optimizer shard's step, activation
// recomputation) is one more constant here.
package org.ringtrain.driver.train;

/** Phase times of one step; make one when the step starts. Not thread-safe: one step, one thread. */
final class StepTimer {

  /** The parts of a step that are reported on their own. */
  enum Phase {
    /** Forward and backward of every micro-batch; gradient buckets travel the ring meanwhile. */
    COMPUTE,
    /** Waiting for the gradient buckets after backward: the communication backward did not hide. */
    COMM_EXPOSED,
    /** Rank 0 writing a checkpoint. */
    CHECKPOINT
  }

  private final long startNanos = System.nanoTime();
  private final long[] phaseNanos = new long[Phase.values().length];

  /** Starts timing {@code phase}; closing the lap adds the time since now to it. */
  Lap time(Phase phase) {
    return new Lap(phase);
  }

  /** Milliseconds spent in {@code phase} during this step (0 when it did not run). */
  double ms(Phase phase) {
    return phaseNanos[phase.ordinal()] / 1e6;
  }

  /** Milliseconds since the step started. */
  double elapsedMs() {
    return (System.nanoTime() - startNanos) / 1e6;
  }

  /** One timed stretch of a phase. */
  final class Lap implements AutoCloseable {
    private final Phase phase;
    private final long lapStart = System.nanoTime();

    private Lap(Phase phase) {
      this.phase = phase;
    }

    @Override
    public void close() {
      phaseNanos[phase.ordinal()] += System.nanoTime() - lapStart;
    }
  }
}
