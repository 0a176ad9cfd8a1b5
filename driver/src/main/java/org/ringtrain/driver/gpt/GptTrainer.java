// The GPT language model's trainer: a DataParallelTrainer with the GPT recipe,
// kept as the entry point the train job and the tests use. Like a Spark ML
// estimator, fit returns the trained model (TrainedGpt): the weights of exactly
// this run's final checkpoint, with the run's summary.
package org.ringtrain.driver.gpt;

import java.io.IOException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.metrics.MetricsSink;
import org.ringtrain.driver.train.DataParallelTrainer;
import org.ringtrain.driver.train.TrainingResult;

/**
 * Trains a GPT data-parallel on Spark. {@code new GptTrainer(config).fit(sc, train, validation,
 * tokenizerId, vocabSize)} runs the whole training as one barrier stage and returns the
 * {@link TrainedGpt} read from this run's final checkpoint; its {@link TrainedGpt#summary()} is the
 * {@link TrainingResult}.
 */
public final class GptTrainer {
  private final TrainConfig config;
  private final DataParallelTrainer trainer;

  /** A trainer for {@code config}. */
  public GptTrainer(TrainConfig config) {
    this(config, new DataParallelTrainer(config.loop()));
  }

  private GptTrainer(TrainConfig config, DataParallelTrainer trainer) {
    this.config = config;
    this.trainer = trainer;
  }

  /** This trainer with a deliberate failure of {@code rank} at {@code step} on the first attempt (drills, tests). */
  public GptTrainer withFault(long step, int rank) {
    return new GptTrainer(config, trainer.withFault(step, rank));
  }

  /** This trainer also delivering every metrics event to {@code sink} on the driver as it arrives. */
  public GptTrainer withMetricsSink(MetricsSink sink) {
    return new GptTrainer(config, trainer.withMetricsSink(sink));
  }

  /** Trains on data prepared by {@link org.ringtrain.driver.data.CorpusLoader}, in the Spark application of a job. */
  public TrainedGpt fit(SparkJob job, TrainingData data) throws IOException {
    return fit(job.sparkContext(), data);
  }

  /**
   * Trains on data prepared by {@link org.ringtrain.driver.data.CorpusLoader}.
   *
   * @throws IllegalArgumentException before the training stage when a rank holds fewer training
   *     sequences than one micro-batch ({@link TrainingPreflight#checkLoaded})
   */
  public TrainedGpt fit(JavaSparkContext sc, TrainingData data) throws IOException {
    TrainingPreflight.checkLoaded(config, data);
    return fit(sc, data.train(), data.validation(), data.tokenizer().id(), data.tokenizer().vocabSize());
  }

  /**
   * Trains on sequences of {@code contextLength + 1} token ids, then reads the weights of this
   * run's final checkpoint into the driver (4 bytes per parameter). A newer checkpoint that
   * another run put into the same directory is never what this returns.
   *
   * @param train      the training sequences, any partitioning; every rank reads all of them in
   *                   the order of {@code train.collect()}
   * @param validation exactly worldSize partitions with equal counts (may be empty)
   * @return the trained model; {@link TrainedGpt#checkpoint()} names the checkpoint it was read from
   */
  public TrainedGpt fit(JavaSparkContext sc, JavaRDD<int[]> train, JavaRDD<int[]> validation,
      String tokenizerId, int vocabSize) throws IOException {
    GptRecipe recipe = new GptRecipe(BaseWeights.resolve(config, vocabSize), vocabSize);
    TrainingResult run = trainer.fit(sc, recipe, train, validation, tokenizerId);
    return TrainedGpt.of(run, recipe.layout(), HadoopSettings.of(sc));
  }

  /** See {@link DataParallelTrainer#checkCheckpointDir}. */
  public static void checkCheckpointDir(TrainConfig config, HadoopSettings hadoop) throws IOException {
    DataParallelTrainer.checkCheckpointDir(config.loop(), hadoop);
  }
}
