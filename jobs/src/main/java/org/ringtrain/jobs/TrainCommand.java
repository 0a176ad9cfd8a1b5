// `ringtrain train`: resolve the config (defaults < --config file < flags),
// check it (and the ranks' memory estimate) before Spark starts, load the corpus, train, write a sample.
package org.ringtrain.jobs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.Preflight;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.MemoryEstimate;
import org.ringtrain.driver.gpt.MemoryPreflight;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.driver.gpt.TrainingPreflight;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.launch.SparkJobConf;
import org.ringtrain.driver.train.TrainingResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Trains a GPT data-parallel on Spark. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train a GPT on a text corpus, data-parallel across Spark tasks.",
    footer = {"", "Any setting of the config can be given with --set key=value (see conf/tiny.yaml for all).",
        "", "Examples:",
        "  ringtrain train --config conf/tiny.yaml --input data/moby-dick.txt --checkpoint-dir target/runs/moby",
        "  ringtrain train --config conf/small.yaml --input 'hdfs:///corpora/*.txt' --checkpoint-dir hdfs:///runs/r1 \\",
        "      --world-size 8 --steps 5000 --set microBatch=16",
        "  ringtrain train --config conf/tiny.yaml --input data/moby-dick.txt --checkpoint-dir target/runs/moby --resume"})
final class TrainCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

  @Option(names = "--config", description = "YAML file of settings (keys as in conf/tiny.yaml)")
  Path config;

  @Option(names = "--input", description = "corpus: a file, directory or glob on any Hadoop filesystem")
  String input;

  @Option(names = "--checkpoint-dir", description = "where checkpoints and metrics.jsonl go")
  String checkpointDir;

  @Option(names = "--steps", description = "optimizer steps")
  Long steps;

  @Option(names = "--world-size", description = "ranks (one Spark task each)")
  Integer worldSize;

  @Option(names = "--resume", description = "continue from the newest valid checkpoint")
  boolean resume;

  @Option(names = "--unsafe-keep-one", description = "allow keepCheckpoints=1: one corrupt checkpoint then loses the"
      + " run's progress")
  boolean unsafeKeepOne;

  @Option(names = "--set", description = "any other setting, key=value (repeatable)")
  List<String> settings = new ArrayList<>();

  @Option(names = "--sample-tokens", defaultValue = "200", description = "tokens to generate after training (default ${DEFAULT-VALUE}; 0 = none)")
  int sampleTokens;

  @Option(names = "--prompt", defaultValue = "The whale", description = "prompt of the sample (default '${DEFAULT-VALUE}')")
  String prompt;

  @Override
  public Integer call() throws Exception {
    TrainConfig cfg = resolve();
    SparkJobConf spark = SparkJobConf.of("ringtrain train", cfg.loop().worldSize());
    HadoopSettings hadoop = spark.hadoopSettings();
    TrainingPreflight.check(cfg, spark.master(), hadoop);
    MemoryEstimate memory = MemoryPreflight.estimate(cfg, Preflight.requireInput(cfg.input(), hadoop));
    LOG.info("{}", memory.table());
    MemoryPreflight.check(memory, MemoryPreflight.budget(spark.master(), spark.settings(), cfg.loop().worldSize()));
    LOG.info("resolved config: {}", cfg.toJson());
    try (SparkJob job = spark.start()) {
      TrainingData data = CorpusLoader.load(job, new DatasetSpec(cfg.input(), cfg.format(),
          cfg.tokenizer().id(), cfg.contextLength(), cfg.validationFraction(), cfg.loop().worldSize()));
      LOG.info("data: {}", data);
      TrainedGpt model = new GptTrainer(cfg).fit(job, data);
      TrainingResult result = model.summary();
      LOG.info("trained {} steps: final loss {}, validation loss {}, checkpoint {}", cfg.loop().steps(),
          String.format("%.4f", result.finalLoss()), String.format("%.4f", result.validationLoss()),
          model.checkpoint());
      if (sampleTokens > 0) {
        LOG.info("sample:\n{}", model.generate(prompt, sampleTokens, 0.8, 40, cfg.loop().seed()));
      }
      return 0;
    }
  }

  TrainConfig resolve() {
    Map<String, Object> flags = new LinkedHashMap<>();
    if (input != null) {
      flags.put("input", input);
    }
    if (checkpointDir != null) {
      flags.put("checkpointDir", checkpointDir);
    }
    if (steps != null) {
      flags.put("steps", steps);
    }
    if (worldSize != null) {
      flags.put("worldSize", worldSize);
    }
    if (resume) {
      flags.put("resume", true);
    }
    if (unsafeKeepOne) {
      flags.put("unsafeKeepOne", true);
    }
    flags.putAll(ConfigFiles.pairs(settings));
    return TrainConfig.fromLayers(ConfigFiles.load(config), flags);
  }
}
