/*
 * TrainClassifierJob: what `ringtrain train-classifier` does once its flags are parsed: check the
 * classifier's params and the model directory before Spark starts, then read labelled text (CSV,
 * JSON lines, Parquet), split off a test set, fit the tokenise -> stop words -> TextClassifier
 * pipeline data-parallel, evaluate it on the test set and save the fitted PipelineModel. It does
 * not parse flags or print: the command does, with the Result this returns.
 */
package org.ringtrain.driver.classify;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.size;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.ringtrain.driver.data.TableInput;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.Preflight;
import org.ringtrain.driver.launch.SparkJob;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains and saves a text-classification pipeline.
 *
 * @param input        labelled text: CSV with a header, JSON lines or Parquet, on any Hadoop filesystem
 * @param format       csv, json or parquet; null to take it from the extension of {@code input}
 * @param textCol      the column of text
 * @param classifier   the classifier with its params; its label column names the column of class indices
 * @param testFraction share of rows held out for the evaluation, in [0, 1); 0 = no evaluation
 * @param seed         seed of the train/test split
 * @param modelDir     where the fitted PipelineModel is saved
 * @param overwrite    replace an existing {@code modelDir}
 */
public record TrainClassifierJob(String input, String format, String textCol, TextClassifier classifier,
    double testFraction, long seed, String modelDir, boolean overwrite) {
  private static final Logger LOG = LoggerFactory.getLogger(TrainClassifierJob.class);

  /**
   * What a run returns.
   *
   * @param fitted     the trained classifier stage of the saved pipeline
   * @param evaluation held-out metrics, empty when {@code testFraction} is 0 or the test split is empty
   */
  public record Result(TextClassificationModel fitted, Optional<ClassifierEvaluation> evaluation) {
  }

  /** Validates the arguments (not yet the classifier's params: see {@link #checkBeforeStart}). */
  public TrainClassifierJob {
    if (input == null || textCol == null || classifier == null || modelDir == null) {
      throw new IllegalArgumentException("input, textCol, classifier and modelDir are required, but found input="
          + input + ", textCol=" + textCol + ", classifier=" + classifier + ", modelDir=" + modelDir);
    }
    if (testFraction < 0 || testFraction >= 1) {
      throw new IllegalArgumentException("testFraction must be in [0, 1), but found " + testFraction
          + "; use 0 to train on every row without an evaluation");
    }
  }

  /**
   * The checks that need no Spark: the classifier's params fit together, its backbone (if any) is a
   * GPT whose shape the params can take, and {@code modelDir} does
   * not exist unless {@code overwrite}.
   *
   * @throws IllegalArgumentException for the first check that fails, saying what to do
   * @throws IOException              if the model directory's file system cannot be asked
   */
  public void checkBeforeStart(HadoopSettings hadoop) throws IOException {
    String labelCol = classifier.getOrDefault(classifier.labelCol());
    classifier.setInputCol(TextPipeline.TOKENS).transformSchema(new StructType()
        .add(TextPipeline.TOKENS, DataTypes.createArrayType(DataTypes.StringType))
        .add(labelCol, DataTypes.DoubleType));
    if (classifier.hasBackbone()) {
      classifier.readBackbone(hadoop);
    }
    if (!overwrite) {
      Preflight.requireAbsent("--model-dir", modelDir, hadoop);
    }
  }

  /**
   * Reads, splits, fits, evaluates and saves. Rows whose text is null are refused; rows with no words
   * left after stop-word removal are left out with a warning.
   *
   * @throws IllegalArgumentException for a missing column, null text or an unknown format
   * @throws IOException              if saving the pipeline fails
   */
  public Result run(SparkJob job) throws IOException {
    String labelCol = classifier.getOrDefault(classifier.labelCol());
    Dataset<Row> data = TableInput.read(job.session(), input, format, List.of(textCol, labelCol));
    long nullText = data.filter(col(textCol).isNull()).count();
    if (nullText > 0) {
      throw new IllegalArgumentException(nullText + " rows of " + input + " have no " + textCol
          + " (null); remove them or fix the input");
    }
    Pipeline prepare = new Pipeline().setStages(TextPipeline.textStages(textCol, classifier));
    Dataset<Row> tokens = prepare.fit(data).transform(data);
    long empty = tokens.filter(size(col(TextPipeline.TOKENS)).equalTo(0)).count();
    if (empty > 0) {
      LOG.warn("{} rows have no words left after tokenising{} and are left out", empty,
          classifier.hasBackbone() ? "" : " and stop-word removal");
    }
    Dataset<Row> usable = tokens.filter(size(col(TextPipeline.TOKENS)).gt(0)).select(textCol, labelCol);
    @SuppressWarnings("unchecked")
    Dataset<Row>[] split = testFraction > 0
        ? usable.randomSplit(new double[] {1 - testFraction, testFraction}, seed)
        : new Dataset[] {usable, usable.limit(0)};
    Dataset<Row> train = split[0].cache();
    Dataset<Row> test = split[1].cache();
    LOG.info("{}: {} training rows, {} test rows", input, train.count(), test.count());
    PipelineModel model = TextPipeline.of(textCol, classifier).fit(train);
    TextClassificationModel fitted = (TextClassificationModel) model.stages()[model.stages().length - 1];
    Optional<ClassifierEvaluation> evaluation = test.count() > 0
        ? Optional.of(ClassifierEvaluation.of(model.transform(test), labelCol, fitted.numClasses()))
        : Optional.empty();
    (overwrite ? model.write().overwrite() : model.write()).save(modelDir);
    LOG.info("saved the pipeline ({} classifier, vocabulary {}) to {}", fitted.architecture(),
        fitted.vocabulary(), modelDir);
    return new Result(fitted, evaluation);
  }
}
