/*
 * ClassifyJob: what `ringtrain classify` does once its flags are parsed: batch inference with a
 * PipelineModel saved by train-classifier: read text, predict on the executors, optionally explain
 * each prediction, and write the result (CSV, JSON lines or Parquet). It does not parse flags.
 */
package org.ringtrain.driver.classify;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.to_json;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.ringtrain.driver.data.TableInput;
import org.ringtrain.driver.launch.SparkJob;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Classifies text with a saved pipeline. The output keeps every input column and adds
 * {@code prediction}, {@code probability} (an array of doubles; JSON text in CSV) and, when
 * {@code explain > 0}, {@code explanation} (JSON text in CSV).
 *
 * @param modelDir a PipelineModel saved by train-classifier
 * @param input    text to classify: CSV with a header, JSON lines or Parquet
 * @param format   the input's format (csv, json or parquet); null to take it from the extension
 * @param textCol  the column of text
 * @param output   where predictions go; the format comes from the extension (.csv, .json, .parquet)
 * @param explain  tokens per direction to explain each prediction with; 0 = no explanations
 * @param method   how to explain (occlusion or LIME with its samples and seed); null = occlusion
 */
public record ClassifyJob(String modelDir, String input, String format, String textCol, String output,
    int explain, ExplanationMethod method) {
  private static final Logger LOG = LoggerFactory.getLogger(ClassifyJob.class);

  /** Validates the arguments, the output's format included, before any Spark work. */
  public ClassifyJob {
    if (modelDir == null || input == null || textCol == null || output == null) {
      throw new IllegalArgumentException("modelDir, input, textCol and output are required, but found modelDir="
          + modelDir + ", input=" + input + ", textCol=" + textCol + ", output=" + output);
    }
    if (explain < 0) {
      throw new IllegalArgumentException("explain must be 0 or more, but found " + explain);
    }
    if (method == null) {
      method = ExplanationMethod.occlusion();
    }
    TableInput.formatOf(output, null);
  }

  /**
   * Loads the pipeline, classifies {@code input} and writes {@code output}.
   *
   * @return the number of rows written
   * @throws IllegalArgumentException if {@code modelDir} holds no text-classifier pipeline, or the
   *                                  input lacks the text column
   */
  public long run(SparkJob job) {
    SparkSession spark = job.session();
    String outFormat = TableInput.formatOf(output, null);
    PipelineModel model = loadPipeline(modelDir);
    Transformer last = model.stages()[model.stages().length - 1];
    if (!(last instanceof TextClassificationModel classifier)) {
      throw new IllegalArgumentException(modelDir + " is not a text classifier pipeline (its last stage is "
          + last.getClass().getSimpleName() + "); give a --model-dir written by train-classifier");
    }
    if (explain > 0) {
      classifier.setExplanationCol("explanation").setExplainTopK(explain).setExplainMethod(method.name())
          .setExplainSamples(method.samples()).setExplainSeed(method.seed());
    }
    Dataset<Row> data = TableInput.read(spark, input, format, List.of(textCol));
    List<Column> keep = new ArrayList<>();
    for (String c : data.columns()) {
      keep.add(col(c));
    }
    keep.add(col("prediction"));
    // CSV has no vector or nested types: probabilities become an array, explanations JSON text.
    Column probability = functions.vector_to_array(col("probability"), "float64");
    keep.add(("csv".equals(outFormat) ? to_json(probability) : probability).as("probability"));
    if (explain > 0) {
      keep.add("csv".equals(outFormat) ? to_json(col("explanation")).as("explanation") : col("explanation"));
    }
    Dataset<Row> predicted = model.transform(data).select(keep.toArray(new Column[0]));
    predicted.write().format(outFormat).option("header", "true").save(output);
    long rows = spark.read().format(outFormat).option("header", "true").load(output).count();
    LOG.info("classified {} rows of {} with {} into {}", rows, input, modelDir, output);
    return rows;
  }

  /**
   * Reads a saved pipeline (needs a running SparkSession).
   *
   * @throws IllegalArgumentException naming {@code dir} when it holds no readable pipeline
   */
  public static PipelineModel loadPipeline(String dir) {
    try {
      return PipelineModel.load(dir);
    } catch (Exception e) { // Spark's reader also throws Hadoop's checked IOExceptions undeclared
      throw new IllegalArgumentException(dir + " holds no readable saved pipeline (" + e.getMessage()
          + "); give a --model-dir written by train-classifier", e);
    }
  }
}
