// `ringtrain train`: resolve the config (defaults < --config file < flags),
// check it (and the ranks' memory estimate) before Spark starts, load the corpus (text, shards, or
// a table's text column through GptEstimator), train, write a sample.
package org.ringtrain.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.Preflight;
import org.ringtrain.driver.gpt.GptTableTraining;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Trains a GPT data-parallel on Spark. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train a GPT on a text corpus or a text column of a table, data-parallel across Spark tasks.",
    footer = {"", "Any setting of the config can be given with --set key=value (see conf/tiny.yaml for all).",
        "", "Examples:",
        "  ringtrain train --config conf/tiny.yaml --input data/moby-dick.txt --checkpoint-dir target/runs/moby",
        "  ringtrain train --config conf/small.yaml --input 'hdfs:///corpora/*.txt' --checkpoint-dir hdfs:///runs/r1 \\",
        "      --world-size 8 --steps 5000 --set microBatch=16",
        "  ringtrain train --config conf/tiny.yaml --input data/moby-dick.txt --checkpoint-dir target/runs/moby --resume",
        "  ringtrain train --config conf/tiny.yaml --input data/sentiment/sentences.jsonl --format json \\",
        "      --text-column text --checkpoint-dir target/runs/sentences",
        "  ringtrain train --config conf/small.yaml --input data/sotu-1790-1819.txt --checkpoint-dir target/runs/lora \\",
        "      --init-from target/models/moby/model.safetensors --set finetune=lora --set loraRank=8 (docs/finetuning.md)"})
final class TrainCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

  @Option(names = "--config", description = "YAML file of settings (keys as in conf/tiny.yaml)")
  Path config;

  @Option(names = "--format", description = "input format: text, shards (llm.c tokens), or a table: parquet, json"
      + " (lines), csv (with a header row) (default: the config's format, text)")
  String format;

  @Option(names = "--text-column", description = "the table's string column to train on, one row a line (default: "
      + GptTableTraining.DEFAULT_TEXT_COLUMN + "; tables only)")
  String textColumn;

  @Option(names = "--init-from", description = "start from this GPT-2 safetensors file (Hugging Face form, config.json"
      + " beside it or the shape in --config/--set); optimizer fresh, step 0. With --set finetune=lora the weights stay"
      + " frozen and LoRA adapters train")
  String initFrom;

  @Mixin
  RunFlags run = new RunFlags();

  @Mixin
  SampleFlags sample = new SampleFlags();

  @Override
  public Integer call() throws Exception {
    TrainConfig cfg = resolve();
    boolean table = GptTableTraining.isTable(format);
    SparkJobConf spark = SparkJobConf.of("ringtrain train", cfg.loop().worldSize());
    HadoopSettings hadoop = spark.hadoopSettings();
    long inputBytes;
    if (table) {
      inputBytes = GptTableTraining.checkBeforeStart(cfg, spark.master(), hadoop);
    } else {
      TrainingPreflight.check(cfg, spark.master(), hadoop);
      inputBytes = Preflight.requireInput(cfg.input(), hadoop);
    }
    MemoryEstimate memory = MemoryPreflight.estimate(cfg, inputBytes);
    LOG.info("{}", memory.table());
    MemoryPreflight.check(memory, MemoryPreflight.budget(spark.master(), spark.settings(), cfg.loop().worldSize()));
    LOG.info("resolved config: {}", cfg.toJson());
    try (SparkJob job = spark.start()) {
      TrainedGpt model;
      if (table) {
        model = GptTableTraining.fit(job, cfg, format, textColumn == null ? GptTableTraining.DEFAULT_TEXT_COLUMN
            : textColumn);
      } else {
        TrainingData data = CorpusLoader.load(job, new DatasetSpec(cfg.input(), cfg.format(),
            cfg.tokenizer().id(), cfg.contextLength(), cfg.validationFraction(), cfg.loop().worldSize()));
        LOG.info("data: {}", data);
        model = new GptTrainer(cfg).fit(job, data);
      }
      TrainingResult result = model.summary();
      LOG.info("trained {} steps: final loss {}, validation loss {}, checkpoint {}", cfg.loop().steps(),
          String.format("%.4f", result.finalLoss()), String.format("%.4f", result.validationLoss()),
          model.checkpoint());
      sample.logSample(model, cfg.loop().seed());
      return 0;
    }
  }

  TrainConfig resolve() {
    Map<String, Object> own = new LinkedHashMap<>();
    if (format != null && !GptTableTraining.isTable(format)) {
      if (!List.of("text", "shards").contains(format)) {
        throw new IllegalArgumentException("--format must be text, shards or a table format " + GptTableTraining.FORMATS
            + ", but found '" + format + "'; e.g. --format parquet --text-column body");
      }
      own.put("format", format);
    }
    if (textColumn != null && !GptTableTraining.isTable(format)) {
      throw new IllegalArgumentException("--text-column " + textColumn + " names a column of a table, but the format is "
          + (format == null ? "the config's (text or shards)" : format) + "; expected --format one of "
          + GptTableTraining.FORMATS + " with it, or drop --text-column for a text corpus");
    }
    if (initFrom != null) {
      own.put("initFrom", initFrom);
    }
    return TrainConfig.fromLayers(ConfigFiles.load(config), run.layer(own));
  }
}
