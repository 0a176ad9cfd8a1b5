// `ringtrain evaluate`: loss and perplexity of a checkpoint on a dataset,
// computed on the Spark executors.
package org.ringtrain.jobs;

import java.util.concurrent.Callable;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.GptEvaluator;
import org.ringtrain.driver.gpt.InferenceGpt;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.gpt.TrainingPreflight;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.launch.SparkJobConf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Evaluates a checkpoint on every sequence of a dataset. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Loss and perplexity of the newest checkpoint of a run, or a GPT-2 safetensors file, on a dataset.",
    footer = {"", "Examples:",
        "  ringtrain evaluate --checkpoint-dir target/runs/moby --input data/moby-dick.txt",
        "  ringtrain evaluate --checkpoint-dir hdfs:///runs/r1 --input 'hdfs:///corpora/test/*.txt' --partitions 16",
        "  ringtrain evaluate --weights target/moby-int8.safetensors --input data/moby-dick.txt # int8 (ringtrain quantize)",
        "  ringtrain evaluate --weights gpt2/model.safetensors --input data/moby-dick.txt # config.json beside it"})
final class EvaluateCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(EvaluateCommand.class);

  @Mixin
  ModelSource source = new ModelSource();

  @Option(names = "--input", required = true, description = "dataset: file, directory or glob")
  String input;

  @Option(names = "--format", defaultValue = "text", description = "text or shards (default ${DEFAULT-VALUE})")
  String format;

  @Option(names = "--partitions", defaultValue = "2", description = "Spark partitions (default ${DEFAULT-VALUE})")
  int partitions;

  @Option(names = "--batch", defaultValue = "8", description = "sequences per forward pass (default ${DEFAULT-VALUE})")
  int batch;

  @Override
  public Integer call() throws Exception {
    if (partitions < 1) {
      throw new IllegalArgumentException("--partitions must be at least 1, but found " + partitions
          + "; use the number of Spark tasks to spread the dataset over, e.g. --partitions 2");
    }
    if (batch < 1) {
      throw new IllegalArgumentException("--batch must be at least 1, but found " + batch
          + "; use the sequences per forward pass, e.g. --batch 8");
    }
    SparkJobConf spark = SparkJobConf.of("ringtrain evaluate", partitions);
    HadoopSettings hadoop = spark.hadoopSettings();
    InferenceGpt model = source.load(hadoop);
    TrainConfig cfg = model.config().with("input", input).with("format", format);
    TrainingPreflight.checkInput(cfg, hadoop);
    try (SparkJob job = spark.start()) {
      TrainingData data = CorpusLoader.load(job, new DatasetSpec(input, cfg.format(), model.tokenizer().id(), cfg.contextLength(), 0.0, partitions));
      GptEvaluator.Evaluation e = GptEvaluator.evaluate(job, model, data, batch);
      LOG.info("{} (step {}) on {}: loss {} perplexity {} over {} sequences ({} tokens)", model.source(), model.step(),
          input, String.format("%.4f", e.loss()), String.format("%.3f", e.perplexity()), e.sequences(), e.tokens());
      System.out.printf("loss %.4f%nperplexity %.3f%n", e.loss(), e.perplexity());
      return 0;
    }
  }
}
