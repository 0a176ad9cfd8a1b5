// `ringtrain classify`: batch inference with a PipelineModel saved by
// train-classifier: read text, predict on the executors, optionally explain
// each prediction, write the result (CSV, JSON lines or Parquet).
package org.ringtrain.jobs;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.ringtrain.driver.classify.TextClassificationModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Classifies text with a saved pipeline.
 *
 * <pre>
 * spark-submit --class org.ringtrain.jobs.RingtrainCli ringtrain-jobs.jar classify \
 *     --model-dir hdfs:///models/sentiment --input hdfs:///data/new.jsonl --output hdfs:///out/new.parquet
 * </pre>
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
    description = "Predict classes (and optionally explanations) for text with a model saved by train-classifier.",
    footer = {"", "Examples:",
        "  ringtrain classify --model-dir target/models/sentiment --input data/sentiment/sentences.jsonl \\",
        "      --output target/predictions.json --explain 3",
        "  ringtrain classify --model-dir hdfs:///models/m1 --input 'hdfs:///inbox/*.parquet' --output hdfs:///out/p1.parquet"})
final class ClassifyCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ClassifyCommand.class);

  @Option(names = "--model-dir", required = true, description = "a PipelineModel saved by train-classifier")
  String modelDir;

  @Option(names = "--input", required = true, description = "text to classify: CSV with a header, JSON lines or Parquet")
  String input;

  @Option(names = "--format", description = "input format: csv, json or parquet (default: from the extension)")
  String format;

  @Option(names = "--text-col", defaultValue = "text", description = "column of text (default ${DEFAULT-VALUE})")
  String textCol;

  @Option(names = "--output", required = true,
      description = "where predictions go; format from the extension (.csv, .json, .parquet)")
  String output;

  @Option(names = "--explain", defaultValue = "0",
      description = "tokens per direction to explain each prediction with, 0 = no explanations (default ${DEFAULT-VALUE})")
  int explain;

  @Override
  public Integer call() {
    if (explain < 0) {
      throw new IllegalArgumentException("--explain must be 0 or more, but found " + explain);
    }
    String outFormat = TableInput.formatOf(output, null);
    SparkConf conf = SparkContexts.conf("ringtrain classify", 2);
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    try {
      PipelineModel model = load(modelDir);
      Transformer last = model.stages()[model.stages().length - 1];
      if (!(last instanceof TextClassificationModel classifier)) {
        throw new IllegalArgumentException(modelDir + " is not a text classifier pipeline (its last stage is "
            + last.getClass().getSimpleName() + "); give a --model-dir written by train-classifier");
      }
      if (explain > 0) {
        classifier.setExplanationCol("explanation").setExplainTopK(explain);
      }
      Dataset<Row> data = TableInput.read(spark, input, format, List.of(textCol));
      List<Column> keep = new ArrayList<>();
      for (String c : data.columns()) {
        keep.add(col(c));
      }
      keep.add(col("prediction"));
      // CSV has no vector or nested types: probabilities become an array, explanations JSON text.
      keep.add("csv".equals(outFormat) ? org.apache.spark.sql.functions.to_json(
          functions.vector_to_array(col("probability"), "float64")).as("probability")
          : functions.vector_to_array(col("probability"), "float64").as("probability"));
      if (explain > 0) {
        keep.add("csv".equals(outFormat) ? org.apache.spark.sql.functions.to_json(col("explanation")).as("explanation")
            : col("explanation"));
      }
      Dataset<Row> predicted = model.transform(data).select(keep.toArray(new Column[0]));
      predicted.write().format(outFormat).option("header", "true").save(output);
      LOG.info("classified {} rows of {} with {} into {}", spark.read().format(outFormat)
          .option("header", "true").load(output).count(), input, modelDir, output);
      return 0;
    } finally {
      spark.stop();
    }
  }

  private static PipelineModel load(String dir) {
    try {
      return PipelineModel.load(dir);
    } catch (Exception e) { // Spark's reader also throws Hadoop's checked IOExceptions undeclared
      throw new IllegalArgumentException(dir + " holds no readable saved pipeline (" + e.getMessage()
          + "); give a --model-dir written by train-classifier", e);
    }
  }
}
