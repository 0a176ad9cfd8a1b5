/*
 * Generation: one generate request inside the scheduler - its prompt tokens, sampling rule and own
 * random generator, its decode slot, and the events (tokens, end, failure) its HTTP handler reads.
 * It runs no model (see GenerationScheduler) and writes no HTTP (see GenerateRoute).
 */
package org.ringtrain.driver.serve;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.ringtrain.ops.gpt.DecodeSlot;
import org.ringtrain.ops.gpt.Sampling;
import org.ringtrain.ops.param.SplitMix64;

/**
 * A request's decoding state. The scheduler thread feeds it and samples for it; the handler thread
 * reads {@link #next}. The random generator belongs to this request alone, so its tokens do not
 * depend on which requests share its steps.
 */
final class Generation {
  /** The event that ends a successful generation. */
  static final Object DONE = new Object();

  private final int[] prompt;
  private final int maxTokens;
  private final Sampling sampling;
  private final SplitMix64 rng;
  private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
  private final AtomicBoolean cancelled = new AtomicBoolean();
  final long submittedNanos = System.nanoTime();
  DecodeSlot slot;
  private int fed;
  private int produced;
  private int last;

  Generation(int[] prompt, int maxTokens, Sampling sampling, long seed) {
    this.prompt = prompt.clone();
    this.maxTokens = maxTokens;
    this.sampling = sampling;
    this.rng = new SplitMix64(seed);
  }

  /** Positions this generation feeds: the prompt and every new token but the last. */
  int capacity() {
    return prompt.length + maxTokens - 1;
  }

  /** The token to feed at the next step: the next prompt token, then the last sampled one. */
  int nextInput() {
    return fed < prompt.length ? prompt[fed] : last;
  }

  /** What a step did for a generation. */
  enum Progress { PROMPT, TOKEN, DONE }

  /** Takes the logits the step gave this row; once the prompt is in, samples a token and publishes it. */
  Progress accept(double[] logits) {
    fed++;
    if (fed < prompt.length) {
      return Progress.PROMPT;
    }
    last = sampling.pick(logits, rng);
    produced++;
    events.add(last);
    if (produced == maxTokens) {
      events.add(DONE);
      return Progress.DONE;
    }
    return Progress.TOKEN;
  }

  /** Asks the scheduler to stop this generation at its next step (the client went away). */
  void cancel() {
    cancelled.set(true);
  }

  boolean isCancelled() {
    return cancelled.get();
  }

  /** Ends the generation with {@code failure} (the handler answers 5xx or ends the stream). */
  void fail(RuntimeException failure) {
    events.add(failure);
  }

  /**
   * The next event: an Integer token, {@link #DONE}, a RuntimeException, or null when none came
   * within the wait.
   */
  Object next(long timeoutMs) throws InterruptedException {
    return events.poll(timeoutMs, TimeUnit.MILLISECONDS);
  }
}
