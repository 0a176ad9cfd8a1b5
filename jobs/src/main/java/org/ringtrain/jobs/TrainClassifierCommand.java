// `ringtrain train-classifier`: read labelled text (CSV, JSON lines, Parquet),
// split off a test set, fit the tokenise -> stop words -> TextClassifier
// pipeline (or, with --backbone, split at whitespace -> a classifier started from
// a GPT) data-parallel, print held-out metrics and the confusion matrix, and
// save the fitted PipelineModel. Thin: the work is in driver.classify
// (TrainClassifierJob).
package org.ringtrain.jobs;

import java.util.concurrent.Callable;
import org.ringtrain.driver.classify.TextClassifier;
import org.ringtrain.driver.classify.TrainClassifierJob;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.launch.SparkJobConf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * Trains a text classifier.
 *
 * <pre>
 * spark-submit --class org.ringtrain.jobs.RingtrainCli ringtrain-jobs.jar train-classifier \
 *     --input hdfs:///data/sentences.jsonl --model-dir hdfs:///models/sentiment --checkpoint-dir hdfs:///runs/sent1
 * </pre>
 */
@Command(name = "train-classifier", mixinStandardHelpOptions = true,
    description = "Train a Transformer or LSTM text classifier on labelled text, data-parallel, and save the pipeline.",
    footer = {"", "Examples:",
        "  ringtrain train-classifier --input data/sentiment/sentences.jsonl --model-dir target/models/sentiment",
        "  ringtrain train-classifier --input reviews.csv --text-col review --label-col stars --architecture lstm \\",
        "      --epochs 5 --model-dir target/models/reviews",
        "  ringtrain train-classifier --input data/sentiment/sentences.jsonl --model-dir target/models/s2 \\",
        "      --dropout 0.1 --validation-fraction 0.1 --early-stopping-patience 3 --epochs 20",
        "  ringtrain train-classifier --input data/sentiment/sentences.jsonl --model-dir target/models/s3 \\",
        "      --backbone target/runs/tiny-gpt --dropout 0.1 --epochs 4",
        "  ringtrain train-classifier --input 'hdfs:///data/*.parquet' --model-dir hdfs:///models/m1 \\",
        "      --checkpoint-dir hdfs:///runs/m1 --world-size 8 --word-vectors hdfs:///glove/glove.6B.100d.txt --d 100"})
final class TrainClassifierCommand implements Callable<Integer> {
  @Option(names = "--input", required = true, description = "labelled text: CSV with a header, JSON lines or Parquet")
  String input;

  @Option(names = "--format", description = "csv, json or parquet (default: from the file extension)")
  String format;

  @Option(names = "--text-col", defaultValue = "text", description = "column of text (default ${DEFAULT-VALUE})")
  String textCol;

  @Option(names = "--label-col", defaultValue = "label",
      description = "column of class indices 0..k-1 (default ${DEFAULT-VALUE})")
  String labelCol;

  @Option(names = "--model-dir", required = true, description = "where the fitted PipelineModel is saved")
  String modelDir;

  @Option(names = "--overwrite", description = "replace an existing --model-dir")
  boolean overwrite;

  @Option(names = "--checkpoint-dir", defaultValue = "",
      description = "training checkpoints; required on a cluster (default: a temporary local directory)")
  String checkpointDir;

  @Option(names = "--resume", description = "continue from the newest checkpoint in --checkpoint-dir (same input)")
  boolean resume;

  @Option(names = "--test-fraction", defaultValue = "0.2",
      description = "share of rows held out for the metrics, 0 = none (default ${DEFAULT-VALUE})")
  double testFraction;

  @Option(names = "--architecture", defaultValue = "transformer", description = "transformer or lstm (default ${DEFAULT-VALUE})")
  String architecture;

  @Option(names = "--d", defaultValue = "64", description = "embedding width (default ${DEFAULT-VALUE})")
  int d;

  @Option(names = "--layers", defaultValue = "2", description = "encoder blocks or LSTM layers (default ${DEFAULT-VALUE})")
  int layers;

  @Option(names = "--heads", defaultValue = "4", description = "attention heads (default ${DEFAULT-VALUE})")
  int heads;

  @Option(names = "--max-len", defaultValue = "64", description = "tokens kept per row (default ${DEFAULT-VALUE})")
  int maxLen;

  @Option(names = "--vocab-size", defaultValue = "20000", description = "maximum vocabulary (default ${DEFAULT-VALUE})")
  int vocabSize;

  @Option(names = "--min-count", defaultValue = "2", description = "rows a token must occur in (default ${DEFAULT-VALUE})")
  int minCount;

  @Option(names = "--epochs", defaultValue = "10", description = "passes over the data (default ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--batch-size", defaultValue = "32", description = "rows per rank per step (default ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--lr", defaultValue = "0.002", description = "peak learning rate (default ${DEFAULT-VALUE})")
  double lr;

  @Option(names = "--world-size", defaultValue = "2", description = "ranks (default ${DEFAULT-VALUE})")
  int worldSize;

  @Option(names = "--seed", defaultValue = "42", description = "seed of the split, initialisation and data order"
      + " (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--word-vectors", description = "GloVe or word2vec text file of dimension --d to initialise the"
      + " embedding")
  String wordVectors;

  @Option(names = "--backbone", description = "a GPT to start the transformer from: a GPT run's checkpoint directory"
      + " or a GPT-2 safetensors file (config.json beside it); its shape and tokenizer replace --d, --layers, --heads"
      + " and the word vocabulary, and --max-len defaults to its context length (docs/classifier.md)")
  String backbone;

  @Spec
  CommandSpec spec;

  @Option(names = "--dropout", defaultValue = "0", description = "drop probability during training, in [0, 1)"
      + " (default ${DEFAULT-VALUE})")
  double dropout;

  @Option(names = "--validation-fraction", defaultValue = "0", description = "share of the training rows held out"
      + " to validate on twice per epoch, in [0, 1) (default ${DEFAULT-VALUE})")
  double validationFraction;

  @Option(names = "--early-stopping-patience", defaultValue = "0", description = "validation passes without a"
      + " lower validation loss before training stops and keeps the best weights; 0 = off, needs"
      + " --validation-fraction (default ${DEFAULT-VALUE})")
  int earlyStoppingPatience;

  @Option(names = "--group-by-length", negatable = true, defaultValue = "false", fallbackValue = "true",
      description = "batch rows of similar length together (less padding per step; the same rows per epoch);"
      + " --no-group-by-length turns it off (default ${DEFAULT-VALUE})")
  boolean groupByLength;

  @Override
  public Integer call() throws Exception {
    if (testFraction < 0 || testFraction >= 1) {
      throw new IllegalArgumentException("--test-fraction must be in [0, 1), but found " + testFraction);
    }
    if (dropout < 0 || dropout >= 1 || validationFraction < 0 || validationFraction >= 1) {
      throw new IllegalArgumentException("--dropout and --validation-fraction must be in [0, 1), but found "
          + dropout + " and " + validationFraction + "; 0 turns them off");
    }
    if (earlyStoppingPatience < 0 || earlyStoppingPatience > 0 && validationFraction == 0) {
      throw new IllegalArgumentException("--early-stopping-patience must be 0 (off) or, with --validation-fraction"
          + " above 0, a positive number of validation passes, but found " + earlyStoppingPatience
          + " with --validation-fraction " + validationFraction + "; e.g. --validation-fraction 0.1"
          + " --early-stopping-patience 3");
    }
    TextClassifier classifier = new TextClassifier().setArchitecture(architecture).setVocabSize(vocabSize)
        .setMinCount(minCount).setEpochs(epochs)
        .setBatchSize(batchSize).setLr(lr).setWorldSize(worldSize).setSeed(seed).setLabelCol(labelCol)
        .setCheckpointDir(checkpointDir).setResume(resume).setWordVectorsPath(wordVectors == null ? "" : wordVectors)
        .setDropout(dropout).setValidationFraction(validationFraction)
        .setEarlyStoppingPatience(earlyStoppingPatience).setGroupByLength(groupByLength);
    // With a backbone the GPT gives the shape: only the shape flags given on the command line are set (and checked).
    ParseResult given = spec.commandLine().getParseResult();
    boolean all = backbone == null;
    if (all || given.hasMatchedOption("--d")) {
      classifier.setD(d);
    }
    if (all || given.hasMatchedOption("--layers")) {
      classifier.setLayers(layers);
    }
    if (all || given.hasMatchedOption("--heads")) {
      classifier.setHeads(heads);
    }
    if (all || given.hasMatchedOption("--max-len")) {
      classifier.setMaxLen(maxLen);
    }
    if (!all) {
      classifier.setBackbone(backbone);
    }
    TrainClassifierJob job = new TrainClassifierJob(input, format, textCol, classifier, testFraction, seed, modelDir,
        overwrite);
    SparkJobConf spark = SparkJobConf.of("ringtrain train-classifier", worldSize);
    job.checkBeforeStart(spark.hadoopSettings()); // params and --model-dir checked before Spark starts
    try (SparkJob running = spark.start()) {
      job.run(running).evaluation().ifPresent(m -> System.out.print(m.format()));
      return 0;
    }
  }
}
