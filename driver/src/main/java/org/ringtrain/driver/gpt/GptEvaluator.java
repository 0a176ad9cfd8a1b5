// Loss and perplexity of a trained model on a dataset, computed where the data
// lives: the weights are broadcast once, each partition runs forward passes on
// its own sequences, and only (loss sum, token count) pairs come back. Not a
// barrier stage: evaluation needs no ring.
package org.ringtrain.driver.gpt;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.launch.SparkJob;

/** Evaluates an {@link InferenceGpt} (float32 or int8) on sequences of {@code contextLength + 1} tokens. */
public final class GptEvaluator {

  /**
   * The result of an evaluation.
   *
   * @param loss       mean cross-entropy per predicted token
   * @param perplexity exp(loss)
   * @param sequences  sequences evaluated
   * @param tokens     tokens predicted
   */
  public record Evaluation(double loss, double perplexity, long sequences, long tokens) implements Serializable {
  }

  private GptEvaluator() {
  }

  /**
   * Evaluates on every training sequence of {@code data} (load it with validation fraction 0 to
   * evaluate the whole dataset), in the Spark application of a job.
   */
  public static Evaluation evaluate(SparkJob job, InferenceGpt model, TrainingData data, int batch) {
    return evaluate(job.sparkContext(), model, data.train(), batch);
  }

  /**
   * Evaluates in batches of {@code batch} sequences per forward pass: a float32 checkpoint by full
   * forward passes, an int8 model by decoding each batch position by position (its matmuls run on
   * int8 weights).
   */
  public static Evaluation evaluate(JavaSparkContext sc, InferenceGpt model, JavaRDD<int[]> sequences, int batch) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be at least 1, but found " + batch);
    }
    SequenceScorer.Factory factory = model.scorer();
    SequenceScorer.Opener opener = factory.opener();
    Broadcast<Object> shared = sc.broadcast((Object) factory.payload());
    try {
      double[] totals = sequences.mapPartitions(part -> {
        List<int[]> rows = new ArrayList<>();
        part.forEachRemaining(rows::add);
        double[] sum = {0, 0, 0}; // loss * tokens, tokens, sequences
        if (rows.isEmpty()) {
          return List.of(sum).iterator();
        }
        int t = rows.get(0).length - 1;
        try (SequenceScorer scorer = opener.open(shared.value())) {
          for (int from = 0; from < rows.size(); from += batch) {
            int b = Math.min(batch, rows.size() - from);
            int[] in = new int[b * t];
            int[] tg = new int[b * t];
            for (int i = 0; i < b; i++) {
              int[] seq = rows.get(from + i);
              System.arraycopy(seq, 0, in, i * t, t);
              System.arraycopy(seq, 1, tg, i * t, t);
            }
            sum[0] += scorer.lossSum(in, tg, b, t);
            sum[1] += (double) b * t;
            sum[2] += b;
          }
        }
        return List.of(sum).iterator();
      }).reduce((a, b) -> new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
      if (totals[1] == 0) {
        throw new IllegalArgumentException("the dataset holds no complete sequence to evaluate");
      }
      double loss = totals[0] / totals[1];
      return new Evaluation(loss, Math.exp(loss), (long) totals[2], (long) totals[1]);
    } finally {
      shared.destroy();
    }
  }
}
