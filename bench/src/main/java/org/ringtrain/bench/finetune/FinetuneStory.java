// The fine-tuning story of docs/finetuning.md as one command: pretrain the
// small GPT on Moby-Dick, export it as GPT-2 safetensors, then train on the
// State of the Union addresses 1790-1819 three ways for the same steps (full
// fine-tuning from the export, LoRA from the export, from scratch) and report
// each model's validation loss on both texts. --pretrained starts from a model
// pretrained earlier (a run's checkpoints or a GPT-2 file) instead of
// pretraining again. Everything goes through the product's own entry points
// (GptTrainer, PretrainedGpt.open, TrainedGpt.export, --init-from's settings,
// GptEvaluator) in one local Spark application. It is a command, not a test.
package org.ringtrain.bench.finetune;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.ringtrain.bench.train.LoadAverage;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.gpt.GptEvaluator;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.gpt.TrainedGpt;

/**
 * Usage: {@code bench/finetune-story.sh [--shape small|tiny] [--pretrain-steps N | --pretrained PATH]
 * [--finetune-steps M] [--out DIR]}. Defaults: the small preset's shape (T 256, C 384, L 6, NH 6;
 * tiny: T 128, C 128, L 4, NH 4), byte tokenizer, 2 ranks of micro-batch 4, 200 pretraining steps,
 * 60 steps for each of the three runs on the second text, output under target/finetune-story (which
 * must not exist). {@code --pretrained} takes a training run's checkpoint directory (its newest valid
 * checkpoint, exported to GPT-2 safetensors under the output) or a GPT-2 safetensors file (used as it
 * is); either must hold a byte-tokenizer model of the chosen shape, trained on data/moby-dick.txt for
 * the story to mean what it says. No pretraining runs then.
 */
public final class FinetuneStory {
  private static final String FIRST = "data/moby-dick.txt";
  private static final String SECOND = "data/sotu-1790-1819.txt";

  private FinetuneStory() {
  }

  /** Runs the story; see the class comment for the flags. */
  public static void main(String[] args) throws Exception {
    int pretrainSteps = 200;
    int finetuneSteps = 60;
    Path out = Path.of("target/finetune-story");
    String shape = "small";
    String pretrainedPath = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--pretrain-steps" -> pretrainSteps = Integer.parseInt(args[i + 1]);
        case "--finetune-steps" -> finetuneSteps = Integer.parseInt(args[i + 1]);
        case "--out" -> out = Path.of(args[i + 1]);
        case "--shape" -> shape = args[i + 1];
        case "--pretrained" -> pretrainedPath = args[i + 1];
        default -> throw new IllegalArgumentException("unknown flag " + args[i] + "; expected --shape,"
            + " --pretrain-steps, --pretrained, --finetune-steps or --out (bench/finetune-story.sh)");
      }
    }
    int[] dims = switch (shape) {
      case "small" -> new int[] {256, 384, 6, 6};
      case "tiny" -> new int[] {128, 128, 4, 4};
      default -> throw new IllegalArgumentException("--shape must be small or tiny, but found " + shape);
    };
    if (args.length % 2 != 0) {
      throw new IllegalArgumentException("flag " + args[args.length - 1] + " needs a value (bench/finetune-story.sh)");
    }
    if (pretrainedPath != null && java.util.Arrays.asList(args).contains("--pretrain-steps")) {
      throw new IllegalArgumentException("--pretrained and --pretrain-steps both given: with --pretrained nothing is"
          + " pretrained; pass one of them (bench/finetune-story.sh)");
    }
    tell(dims, pretrainSteps, pretrainedPath, finetuneSteps, out, args);
  }

  private static void tell(int[] dims, int pretrainSteps, String pretrainedPath, int finetuneSteps, Path out,
      String[] args) throws Exception {
    if (Files.exists(out)) {
      throw new IllegalArgumentException(out + " exists; remove it or pass --out NEW_DIR");
    }
    Pretrained given = pretrainedPath == null ? null : Pretrained.load(pretrainedPath, dims);
    System.out.println("command: bench/finetune-story.sh " + String.join(" ", args));
    System.out.println("machine: " + LoadAverage.machine() + "; load average " + LoadAverage.now());
    SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("ringtrain-finetune-story")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
        .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .set("spark.kryo.registrator", "org.ringtrain.driver.serde.RingtrainKryoRegistrator");
    try (JavaSparkContext sc = new JavaSparkContext(conf)) {
      TrainingData moby = CorpusLoader.load(sc, spec(FIRST, dims[0]));
      TrainingData sotu = CorpusLoader.load(sc, spec(SECOND, dims[0]));
      System.out.println("shape (T, C, L, NH): " + java.util.Arrays.toString(dims) + "\nfirst text: " + moby
          + "\nsecond text: " + sotu);

      TrainedGpt pretrained = given != null ? given.model()
          : fit(sc, moby, run(dims, out.resolve("pretrain"), FIRST, pretrainSteps, 1e-3, Map.of()));
      Path exported = given != null && given.file() != null ? given.file() : pretrained.export(out.resolve("pretrained"));
      String before = given != null ? "pretrained on Moby-Dick (" + given.describe() + "), before fine-tuning"
          : "pretrained on Moby-Dick (" + pretrainSteps + " steps), before fine-tuning";
      System.out.println("pretrained model: " + pretrained.source() + " (step " + pretrained.step() + "), base file "
          + exported);
      Map<String, Object> fromExport = Map.of("initFrom", exported.toString());
      Map<String, Object> lora = new LinkedHashMap<>(fromExport);
      lora.put("finetune", "lora");
      lora.put("loraRank", 8);
      lora.put("loraAlpha", 16.0);
      lora.put("loraTargets", "c_attn,attn.c_proj,c_fc,mlp.c_proj");

      Map<String, TrainedGpt> models = new LinkedHashMap<>();
      Map<String, Double> seconds = new LinkedHashMap<>();
      models.put(before, pretrained);
      seconds.put(before, Double.NaN);
      timed(models, seconds, "full fine-tuning, " + finetuneSteps + " steps",
          () -> fit(sc, sotu, run(dims, out.resolve("full"), SECOND, finetuneSteps, 3e-4, fromExport)));
      timed(models, seconds, "LoRA r 8 on all four linear layers, " + finetuneSteps + " steps",
          () -> fit(sc, sotu, run(dims, out.resolve("lora"), SECOND, finetuneSteps, 1e-3, lora)));
      timed(models, seconds, "from scratch on the second text, " + finetuneSteps + " steps",
          () -> fit(sc, sotu, run(dims, out.resolve("scratch"), SECOND, finetuneSteps, 1e-3, Map.of())));

      System.out.println("load average after training: " + LoadAverage.now());
      System.out.println();
      System.out.println("| model | validation loss, State of the Union 1790-1819 | validation loss, Moby-Dick |"
          + " training time (s) |");
      System.out.println("|---|---:|---:|---:|");
      for (Map.Entry<String, TrainedGpt> e : models.entrySet()) {
        double second = GptEvaluator.evaluate(sc, e.getValue(), sotu.validation(), 8).loss();
        double first = GptEvaluator.evaluate(sc, e.getValue(), moby.validation(), 8).loss();
        System.out.printf(Locale.ROOT, "| %s | %.4f | %.4f | %.0f |%n", e.getKey(), second, first,
            seconds.get(e.getKey()));
      }
    }
  }

  private interface Run {
    TrainedGpt get() throws Exception;
  }

  private static void timed(Map<String, TrainedGpt> models, Map<String, Double> seconds, String name, Run run)
      throws Exception {
    long start = System.nanoTime();
    models.put(name, run.get());
    seconds.put(name, (System.nanoTime() - start) / 1e9);
  }

  private static DatasetSpec spec(String path, int contextLength) {
    return new DatasetSpec(path, DatasetSpec.Format.TEXT, "byte", contextLength, 0.05, 2);
  }

  private static TrainConfig run(int[] dims, Path dir, String input, int steps, double lr,
      Map<String, Object> finetune) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("input", input);
    s.put("checkpointDir", dir.toString());
    s.put("contextLength", dims[0]);
    s.put("dModel", dims[1]);
    s.put("layers", dims[2]);
    s.put("heads", dims[3]);
    s.put("worldSize", 2);
    s.put("microBatch", 4);
    s.put("steps", steps);
    s.put("learningRate", lr);
    s.put("minLearningRate", lr / 10);
    s.put("warmupSteps", Math.max(1, steps / 10));
    s.put("evalEvery", steps);
    s.put("evalBatches", 4);
    s.put("checkpointEvery", steps);
    s.put("checkReplicasEvery", steps);
    s.putAll(finetune);
    return TrainConfig.fromLayers(s);
  }

  private static TrainedGpt fit(JavaSparkContext sc, TrainingData data, TrainConfig cfg) throws Exception {
    return new GptTrainer(cfg).fit(sc, data);
  }
}
