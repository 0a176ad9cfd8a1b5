// `ringtrain classify`: batch inference with a PipelineModel saved by
// train-classifier: read text, predict on the executors, optionally explain
// each prediction, write the result (CSV, JSON lines or Parquet). Thin: the
// work is in driver.classify.ClassifyJob.
package org.ringtrain.jobs;

import java.util.concurrent.Callable;
import org.ringtrain.driver.classify.ClassifyJob;
import org.ringtrain.driver.classify.ExplanationMethod;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.launch.SparkJobConf;
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
        "  ringtrain classify --model-dir target/models/sentiment --input data/sentiment/sentences.jsonl \\",
        "      --output target/lime.json --explain 3 --explain-method lime --explain-samples 300 --explain-seed 7",
        "  ringtrain classify --model-dir hdfs:///models/m1 --input 'hdfs:///inbox/*.parquet' --output hdfs:///out/p1.parquet"})
final class ClassifyCommand implements Callable<Integer> {
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

  @Option(names = "--explain-method", defaultValue = ExplanationMethod.OCCLUSION,
      description = "how --explain explains: occlusion (one forward pass per token) or lime (a local linear model"
          + " fitted to --explain-samples perturbed copies of each text) (default ${DEFAULT-VALUE})")
  String explainMethod;

  @Option(names = "--explain-samples", defaultValue = "" + ExplanationMethod.DEFAULT_SAMPLES,
      description = "lime: perturbed copies per text, each a forward pass (default ${DEFAULT-VALUE})")
  int explainSamples;

  @Option(names = "--explain-seed", defaultValue = "" + ExplanationMethod.DEFAULT_SEED,
      description = "lime: seed of the perturbations; the same seed gives the same explanation (default ${DEFAULT-VALUE})")
  long explainSeed;

  @Override
  public Integer call() {
    if (explain < 0) {
      throw new IllegalArgumentException("--explain must be 0 or more, but found " + explain);
    }
    ExplanationMethod method;
    try {
      method = new ExplanationMethod(explainMethod, explainSamples, explainSeed);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--explain-method/--explain-samples: " + e.getMessage(), e);
    }
    ClassifyJob job = new ClassifyJob(modelDir, input, format, textCol, output, explain, method);
    try (SparkJob spark = SparkJobConf.of("ringtrain classify", 2).start()) {
      job.run(spark);
      return 0;
    }
  }
}
