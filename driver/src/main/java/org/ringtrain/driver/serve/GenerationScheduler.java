/*
 * GenerationScheduler: dynamic batching of the decode step. One thread owns the model; requests
 * wait in a bounded queue and join the running batch between steps, each with its own KV cache
 * slot, and leave it when done or cancelled. It does not parse requests or write responses.
 */
package org.ringtrain.driver.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.gpt.BatchDecoding;
import org.ringtrain.ops.gpt.DecodeSlot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching over a {@link BatchDecoding}: every step feeds one token to each active
 * generation (a prompt token while its prompt goes in, its last sampled token after), so new
 * requests start at once instead of waiting for a batch to finish.
 */
final class GenerationScheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GenerationScheduler.class);

  private final BatchDecoding decoder;
  private final ServeMetrics metrics;
  private final BlockingQueue<Generation> pending;
  private final List<Generation> active = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;

  GenerationScheduler(BatchDecoding decoder, int queueCapacity, ServeMetrics metrics, String name) {
    this.decoder = decoder;
    this.metrics = metrics;
    this.pending = new ArrayBlockingQueue<>(queueCapacity);
    metrics.queueDepth("generate_" + name, pending::size);
    thread = new Thread(this::run, "serve-decode-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues a generation; false when the queue is full (the caller answers 429). */
  boolean submit(Generation g) {
    return running && pending.offer(g);
  }

  private void run() {
    int maxBatch = decoder.maxBatch();
    int[] tokens = new int[maxBatch];
    DecodeSlot[] slots = new DecodeSlot[maxBatch];
    while (running || !active.isEmpty() || !pending.isEmpty()) {
      try {
        admit(maxBatch);
        dropCancelled();
        int n = active.size();
        if (n == 0) {
          continue;
        }
        for (int i = 0; i < n; i++) {
          tokens[i] = active.get(i).nextInput();
          slots[i] = active.get(i).slot;
        }
        INDArray logits = decoder.step(tokens, slots, n);
        metrics.decodeStep(n);
        List<Generation> finished = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          Generation g = active.get(i);
          Generation.Progress progress = g.accept(logits.getRow(i).toDoubleVector());
          if (progress != Generation.Progress.PROMPT) {
            metrics.tokenGenerated();
          }
          if (progress == Generation.Progress.DONE) {
            finished.add(g);
          }
        }
        for (Generation g : finished) {
          release(g);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (RuntimeException e) {
        LOG.error("decode step failed; failing the {} generations in it", active.size(), e);
        for (Generation g : List.copyOf(active)) {
          g.fail(new IllegalStateException("generation failed inside the model: " + e.getMessage(), e));
          release(g);
        }
      }
    }
    for (Generation g : List.copyOf(active)) {
      g.fail(new IllegalStateException("the server stopped before this generation finished"));
      release(g);
    }
  }

  /** Moves waiting generations into the batch while it has room; waits briefly when idle. */
  private void admit(int maxBatch) throws InterruptedException {
    while (active.size() < maxBatch) {
      Generation g = active.isEmpty() ? pending.poll(50, TimeUnit.MILLISECONDS) : pending.poll();
      if (g == null) {
        return;
      }
      if (g.isCancelled()) {
        metrics.generationCancelled();
        continue;
      }
      g.slot = decoder.newSlot(g.capacity());
      active.add(g);
    }
  }

  private void dropCancelled() {
    for (Generation g : List.copyOf(active)) {
      if (g.isCancelled()) {
        metrics.generationCancelled();
        release(g);
      }
    }
  }

  private void release(Generation g) {
    active.remove(g);
    g.slot.close();
  }

  /** Stops taking requests, lets the batch and the queue finish (or fail after 10 s), and stops. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(10_000);
    if (thread.isAlive()) {
      thread.interrupt();
      thread.join(5_000);
    }
  }
}
