/*
 * ServedClassifier: one saved text-classifier pipeline behind the server - its text stages, the
 * trained model, and a thread that merges waiting classify requests into shared forward passes.
 * It does not parse HTTP (see ClassifyRoute) and needs Spark only to load (see ModelServer).
 */
package org.ringtrain.driver.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.ringtrain.driver.classify.Explanation;
import org.ringtrain.driver.classify.ExplanationMethod;
import org.ringtrain.driver.classify.TextClassificationModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A classifier served under a name; requests are answered in the order they were queued. */
final class ServedClassifier implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServedClassifier.class);

  /** One text's answer: its tokens, class probabilities and, when asked for, its explanation. */
  record Result(List<String> tokens, double[] probabilities, Explanation explanation) {
  }

  /** A queued request: its texts' tokens, how many explanation tokens, and where the answer goes. */
  record Job(List<List<String>> rows, int explain, ExplanationMethod method, CompletableFuture<List<Result>> answer) {
  }

  private final String name;
  private final String dir;
  private final TextTokens text;
  private final TextClassificationModel model;
  private final String digest;
  private final ServeMetrics metrics;
  private final int maxBatch;
  private final BlockingQueue<Job> pending;
  private final Thread thread;
  // The classify thread's own network, made on its first batch and kept for the thread's life:
  // allocating it per batch (weights and activations) cost more than the batch's forward pass.
  private TextClassificationModel.Scorer scorer;
  private volatile boolean running = true;

  ServedClassifier(String name, String dir, PipelineModel pipeline, String digest, ServeSettings settings,
      ServeMetrics metrics) {
    Transformer[] stages = pipeline.stages();
    if (stages.length == 0 || !(stages[stages.length - 1] instanceof TextClassificationModel last)) {
      throw new IllegalArgumentException(dir + " is not a text classifier pipeline (its last stage is "
          + (stages.length == 0 ? "missing" : stages[stages.length - 1].getClass().getSimpleName())
          + "); give a --model-dir written by train-classifier");
    }
    this.name = name;
    this.dir = dir;
    this.text = TextTokens.of(java.util.Arrays.copyOf(stages, stages.length - 1), dir);
    this.model = last;
    this.digest = digest;
    this.metrics = metrics;
    this.maxBatch = settings.maxBatch();
    this.pending = new ArrayBlockingQueue<>(settings.queueCapacity());
    metrics.queueDepth("classify_" + name, pending::size);
    thread = new Thread(this::run, "serve-classify-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  String name() {
    return name;
  }

  /** The tokens the model sees for {@code s}. */
  List<String> tokens(String s) {
    return text.tokens(s);
  }

  /** Queues a job; false when the queue is full (the caller answers 429). */
  boolean submit(Job job) {
    return running && pending.offer(job);
  }

  /** What /v1/models says about this model. */
  Map<String, Object> info() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("kind", "classifier");
    m.put("source", dir);
    m.put("architecture", model.architecture());
    m.put("classes", model.numClasses());
    m.put("vocabulary", model.vocabulary().size());
    m.put("tokenizer", "regex+stopwords");
    m.put("digest", digest);
    return m;
  }

  /**
   * Takes the oldest job, then more jobs while their texts fit in {@code maxBatch} rows (a job is
   * never split), predicts all their texts in one call and answers each job.
   */
  private void run() {
    try {
      while (running || !pending.isEmpty()) {
        Job first = pending.poll(50, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        List<Job> jobs = new ArrayList<>(List.of(first));
        List<List<String>> rows = new ArrayList<>(first.rows());
        while (pending.peek() != null && rows.size() + pending.peek().rows().size() <= maxBatch) {
          Job next = pending.poll();
          jobs.add(next);
          rows.addAll(next.rows());
        }
        answer(jobs, rows);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (scorer != null) {
        scorer.close();
      }
    }
  }

  private void answer(List<Job> jobs, List<List<String>> rows) {
    try {
      if (scorer == null) {
        scorer = model.scorer(); // made here so that a failure to make it fails this batch, not the thread
      }
      double[][] p = scorer.predictBatch(rows);
      metrics.classifyForward(rows.size());
      int at = 0;
      for (Job job : jobs) {
        List<Result> results = new ArrayList<>(job.rows().size());
        for (List<String> row : job.rows()) {
          results.add(new Result(row, p[at++], job.explain() > 0 ? scorer.explain(row, job.method()) : null));
        }
        job.answer().complete(results);
      }
    } catch (RuntimeException e) {
      LOG.error("classify batch of {} texts failed in model {}", rows.size(), name, e);
      jobs.forEach(job -> job.answer().completeExceptionally(e));
    }
  }

  /** Lets queued jobs finish (up to 10 s) and stops the thread. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(10_000);
    thread.interrupt();
  }
}
