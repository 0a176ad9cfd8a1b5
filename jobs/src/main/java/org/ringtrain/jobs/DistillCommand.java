// `ringtrain distill`: resolve the student's config and the distillation settings (defaults <
// --config file < flags), check the teacher (tokenizer, context) and the student's memory before
// Spark starts, load the corpus, distil, write a sample. The teacher is trained by `train`.
package org.ringtrain.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.Preflight;
import org.ringtrain.driver.gpt.DistillSettings;
import org.ringtrain.driver.gpt.GptDistiller;
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

/** Distils a trained GPT (the teacher) into a smaller one (the student), data-parallel on Spark. */
@Command(name = "distill", mixinStandardHelpOptions = true,
    description = {"Train a smaller GPT (the student) on a corpus and on a trained GPT's (the teacher's)",
        "next-token distributions: loss = alpha * tau^2 * KL(teacher/tau || student/tau) + (1 - alpha) * CE."},
    footer = {"", "The student's shape and training settings are those of `train` (--config, --set); the teacher's",
        "newest valid checkpoint must use the student's tokenizer and a context at least as long.",
        "", "Examples:",
        "  ringtrain distill --config conf/student.yaml --teacher target/runs/small --input data/moby-dick.txt \\",
        "      --checkpoint-dir target/runs/student",
        "  ringtrain distill --config conf/tiny.yaml --teacher hdfs:///runs/r1 --input 'hdfs:///corpora/*.txt' \\",
        "      --checkpoint-dir hdfs:///runs/student --alpha 0.7 --temperature 2 --steps 2000"})
final class DistillCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(DistillCommand.class);

  @Option(names = "--config", description = "YAML file of the student's settings (keys as in conf/tiny.yaml, plus"
      + " teacher, alpha, temperature)")
  Path config;

  @Option(names = "--teacher", description = "the teacher's checkpoint directory (setting: teacher)")
  String teacher;

  @Option(names = "--alpha", description = "weight of the teacher's term in [0, 1] (setting: alpha; default "
      + DistillSettings.DEFAULT_ALPHA + ")")
  Double alpha;

  @Option(names = "--temperature", description = "softmax temperature tau > 0 (setting: temperature; default "
      + DistillSettings.DEFAULT_TEMPERATURE + ")")
  Double temperature;

  @Mixin
  RunFlags flags = new RunFlags();

  @Mixin
  SampleFlags sample = new SampleFlags();

  @Override
  public Integer call() throws Exception {
    Map<String, Object> file = ConfigFiles.load(config);
    Map<String, Object> given = layer();
    DistillSettings distill = DistillSettings.fromLayers(file, given);
    TrainConfig cfg = TrainConfig.fromLayers(DistillSettings.withoutDistillKeys(file, given));
    SparkJobConf spark = SparkJobConf.of("ringtrain distill", cfg.loop().worldSize());
    HadoopSettings hadoop = spark.hadoopSettings();
    TrainingPreflight.check(cfg, spark.master(), hadoop);
    GptDistiller.TeacherCheck teacherCheck = GptDistiller.preflight(cfg, distill, hadoop);
    LOG.info("teacher {} (step {}): {} parameters; student: {} parameters ({}x the teacher's); tokenizer {}",
        teacherCheck.teacherDir(), teacherCheck.step(), String.format("%,d", teacherCheck.teacherParameters()),
        String.format("%,d", teacherCheck.studentParameters()), String.format("%.3f", teacherCheck.parameterRatio()),
        teacherCheck.tokenizerId());
    MemoryEstimate memory = MemoryPreflight.estimate(cfg, Preflight.requireInput(cfg.input(), hadoop));
    LOG.info("student {} (the frozen teacher adds its weights, {} MiB, and its forward activations per rank)",
        memory.table(), teacherCheck.teacherParameters() * 4 >> 20);
    MemoryPreflight.check(memory, MemoryPreflight.budget(spark.master(), spark.settings(), cfg.loop().worldSize()));
    LOG.info("resolved config: {}, distillation: {}", cfg.toJson(), distill);
    try (SparkJob job = spark.start()) {
      TrainingData data = CorpusLoader.load(job, new DatasetSpec(cfg.input(), cfg.format(),
          cfg.tokenizer().id(), cfg.contextLength(), cfg.validationFraction(), cfg.loop().worldSize()));
      LOG.info("data: {}", data);
      TrainedGpt model = new GptDistiller(cfg, distill).fit(job, data);
      TrainingResult result = model.summary();
      LOG.info("distilled {} steps: final loss {}, validation loss (cross-entropy) {}, checkpoint {}",
          cfg.loop().steps(), String.format("%.4f", result.finalLoss()),
          String.format("%.4f", result.validationLoss()), model.checkpoint());
      sample.logSample(model, cfg.loop().seed());
      return 0;
    }
  }

  /** The flags layer: the distillation flags, then the training flags. */
  Map<String, Object> layer() {
    Map<String, Object> given = new LinkedHashMap<>();
    if (teacher != null) {
      given.put("teacher", teacher);
    }
    if (alpha != null) {
      given.put("alpha", alpha);
    }
    if (temperature != null) {
      given.put("temperature", temperature);
    }
    given.putAll(flags.layer());
    return given;
  }
}
