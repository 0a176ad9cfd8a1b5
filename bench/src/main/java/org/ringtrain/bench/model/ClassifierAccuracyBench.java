/*
 * ClassifierAccuracyBench: held-out accuracy, weighted F1, area under ROC and fit time of
 * ringtrain's text classifiers beside MLlib's own text pipelines (the same tokenizer and stop
 * words, then CountVectorizer -> IDF -> LogisticRegression, and CountVectorizer -> NaiveBayes) on
 * K random 80/20 splits of the shipped sentiment corpus, all in one run on one local[2] Spark
 * session, so every model sees the same splits and the same machine load. One untimed fit warms
 * Spark and the JIT up first. It is a command, not a test; it tunes nothing (each model runs at
 * the settings the class comment lists). The "transformer-backbone" row first pretrains its GPT
 * (BackbonePretraining) unless --backbone names one.
 */
package org.ringtrain.bench.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.size;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.NaiveBayes;
import org.apache.spark.ml.feature.CountVectorizer;
import org.apache.spark.ml.feature.IDF;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.ringtrain.bench.train.LoadAverage;
import org.ringtrain.driver.classify.ClassifierEvaluation;
import org.ringtrain.driver.classify.TextClassifier;
import org.ringtrain.driver.classify.TextPipeline;

/**
 * Usage: {@code bench/classifier.sh accuracy [--splits K] [--models lr,nb,transformer,lstm,transformer-reg,lstm-reg,
 * transformer-backbone] [--data PATH] [--backbone DIR_OR_FILE | --backbone-steps N] [--backbone-epochs E]
 * [--quick]}.
 *
 * <p>Split i (1..K) is {@code randomSplit([0.8, 0.2], seed i)} of the corpus rows that keep at
 * least one word after stop-word removal (as train-classifier does). ringtrain's models run at the
 * train-classifier job's defaults (d 64, 2 layers, 4 heads, maxLen 64, 10 epochs, batch 32 per
 * rank, lr 0.002, 2 ranks, seed 42); the "-reg" rows add dropout 0.1 and early stopping (10% of the
 * training rows held out, patience 3 validation passes, best weights restored); "-grouped" and
 * "-ungrouped" set groupByLength on and off (the plain name keeps its default). MLlib's rows use
 * its defaults (CountVectorizer minDF 1, LogisticRegression and NaiveBayes as constructed).
 * "transformer-backbone" is a Transformer started from a GPT (the {@code backbone} param: its shape
 * and byte tokenizer, causal attention, maxLen its context of 64 bytes): unless {@code --backbone}
 * names a GPT checkpoint directory or GPT-2 file, the bench first trains conf/tiny.yaml's GPT
 * (T 64, C 128, L 4, NH 4, byte tokenizer) on data/moby-dick.txt (unlabelled text, none of the
 * sentences) for {@code --backbone-steps} steps (default 600), once, before the splits; then each
 * split fine-tunes it for {@code --backbone-epochs} epochs (default {@value #BACKBONE_EPOCHS}) at lr
 * 0.001 with dropout 0.1, batch 32
 * per rank, 2 ranks, seed 42 (the pretraining's time is printed, not counted in the fit times).
 * Its text stage splits at whitespace and keeps case and stop words (TextPipeline.textStages).
 * {@code --quick} is 1 split, 2 epochs: a smoke run, not a measurement. Default: 5 splits, every
 * model but transformer-backbone.
 */
public final class ClassifierAccuracyBench {

  /** Fine-tuning epochs of the backbone row, unless --backbone-epochs says. */
  static final int BACKBONE_EPOCHS = 3;

  private static String backbone = ""; // the backbone row's GPT, set before the splits
  private static int backboneEpochs = BACKBONE_EPOCHS;

  private ClassifierAccuracyBench() {
  }

  /** Runs the comparison; see the class comment for the flags. */
  public static void main(String[] args) throws Exception {
    int splits = 5;
    int epochs = 10;
    String models = "lr,nb,transformer,lstm,transformer-reg,lstm-reg";
    String data = "data/sentiment/sentences.jsonl";
    int backboneSteps = 600;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--splits" -> splits = Integer.parseInt(value(args, ++i));
        case "--models" -> models = value(args, ++i);
        case "--data" -> data = value(args, ++i);
        case "--backbone" -> backbone = value(args, ++i);
        case "--backbone-steps" -> backboneSteps = Integer.parseInt(value(args, ++i));
        case "--backbone-epochs" -> backboneEpochs = Integer.parseInt(value(args, ++i));
        case "--quick" -> {
          splits = 1;
          epochs = 2;
        }
        case "--help", "-h" -> {
          System.out.println("bench/classifier.sh accuracy [--splits K] [--models lr,nb,transformer,lstm,"
              + "transformer-reg,lstm-reg,transformer-grouped,transformer-ungrouped,...,transformer-backbone]"
              + " [--data PATH] [--backbone DIR_OR_FILE | --backbone-steps N] [--backbone-epochs E] [--quick]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown flag " + args[i] + "; expected --splits K, --models"
            + " LIST, --data PATH, --backbone PATH, --backbone-steps N, --backbone-epochs E or --quick (see --help)");
      }
    }
    if (splits < 1) {
      throw new IllegalArgumentException("--splits must be at least 1, but found " + splits);
    }
    if (backboneSteps < 2 || backboneEpochs < 1) {
      throw new IllegalArgumentException("--backbone-steps must be at least 2 and --backbone-epochs at least 1, but"
          + " found " + backboneSteps + " and " + backboneEpochs);
    }
    if (!Files.isRegularFile(Path.of(data))) {
      throw new IllegalArgumentException("--data " + data + " is not a file; run from the repository root or pass"
          + " --data data/sentiment/sentences.jsonl");
    }
    System.out.println("command: bench/classifier.sh accuracy" + (args.length == 0 ? "" : " " + String.join(" ", args)));
    System.out.println("machine: " + LoadAverage.machine() + "; load average at the start " + LoadAverage.now());
    SparkSession spark = SparkSession.builder().master("local[2]").appName("classifier-accuracy")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .config("spark.kryo.registrator", "org.ringtrain.driver.serde.RingtrainKryoRegistrator")
        .getOrCreate();
    try {
      if (List.of(models.split(",")).contains("transformer-backbone") && backbone.isBlank()) {
        Path dir = Path.of("bench/target/classifier-backbone-" + System.currentTimeMillis()).toAbsolutePath();
        backbone = BackbonePretraining.pretrain(JavaSparkContext.fromSparkContext(spark.sparkContext()),
            Path.of("conf/tiny.yaml"), "data/moby-dick.txt", backboneSteps, dir);
      }
      run(spark, data, splits, epochs, List.of(models.split(",")));
    } finally {
      spark.stop();
    }
    System.out.println("load average at the end " + LoadAverage.now());
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  private static void run(SparkSession spark, String data, int splits, int epochs, List<String> models) {
    Dataset<Row> raw = spark.read().json(data).withColumn("label", col("label").cast(DataTypes.DoubleType));
    Dataset<Row> tokens = new Pipeline().setStages(new PipelineStage[] {TextPipeline.tokenizer("text"),
        TextPipeline.stopWords("text")}).fit(raw).transform(raw);
    Dataset<Row> usable = tokens.filter(size(col(TextPipeline.TOKENS)).gt(0)).select("text", "label").cache();
    System.out.println(usable.count() + " sentences with words after stop-word removal; " + splits
        + " random 80/20 splits (seeds 1.." + splits + ")");
    Map<String, List<double[]>> results = new LinkedHashMap<>(); // model -> per split {acc, f1, auc, fit s}
    // One untimed fit first, so that no timed model pays for Spark's and the JIT's first jobs.
    pipeline("nb", epochs).fit(usable.limit(500)).transform(usable.limit(100)).count();
    for (int split = 1; split <= splits; split++) {
      Dataset<Row>[] parts = usable.randomSplit(new double[] {0.8, 0.2}, split);
      Dataset<Row> train = parts[0].cache();
      Dataset<Row> test = parts[1].cache();
      long trainRows = train.count();
      long testRows = test.count();
      for (String model : models) {
        Pipeline pipeline = pipeline(model.strip(), epochs);
        long start = System.nanoTime();
        PipelineModel fitted = pipeline.fit(train);
        double fitSeconds = (System.nanoTime() - start) / 1e9;
        ClassifierEvaluation m = ClassifierEvaluation.of(fitted.transform(test), "label", 2);
        results.computeIfAbsent(model.strip(), k -> new ArrayList<>())
            .add(new double[] {m.accuracy(), m.f1(), m.auc(), fitSeconds});
        System.out.printf(Locale.ROOT, "split %d (%d train, %d test) %-16s accuracy %.4f  f1 %.4f  auc %.4f  fit %.1f s"
            + "  (load %s)%n", split, trainRows, testRows, model.strip(), m.accuracy(), m.f1(), m.auc(), fitSeconds,
            LoadAverage.now());
      }
      train.unpersist();
      test.unpersist();
      printTable(results); // after every split, so that a run cut short still leaves its table
    }
  }

  /** The pipeline of one model name; every one starts from the text column. */
  static Pipeline pipeline(String model, int epochs) {
    return switch (model) {
      case "lr" -> mllib(new IDF().setInputCol("tf").setOutputCol("features"), new LogisticRegression());
      case "nb" -> mllib(null, new NaiveBayes().setFeaturesCol("tf"));
      case "transformer", "lstm" -> TextPipeline.of("text", ringtrain(model, epochs));
      case "transformer-reg", "lstm-reg" -> TextPipeline.of("text", ringtrain(model.replace("-reg", ""), epochs)
          .setDropout(0.1).setValidationFraction(0.1).setEarlyStoppingPatience(3));
      case "transformer-grouped", "lstm-grouped" -> TextPipeline.of("text",
          ringtrain(model.replace("-grouped", ""), epochs).setGroupByLength(true));
      case "transformer-ungrouped", "lstm-ungrouped" -> TextPipeline.of("text",
          ringtrain(model.replace("-ungrouped", ""), epochs).setGroupByLength(false));
      case "transformer-backbone" -> TextPipeline.of("text", new TextClassifier().setBackbone(backbone)
          .setEpochs(Math.min(epochs, backboneEpochs)).setLr(0.001).setDropout(0.1).setWorldSize(2).setSeed(42));
      default -> throw new IllegalArgumentException("unknown model '" + model + "'; expected lr, nb, transformer,"
          + " lstm, transformer-reg, lstm-reg, transformer-grouped, lstm-grouped, transformer-ungrouped,"
          + " lstm-ungrouped or transformer-backbone");
    };
  }

  /** train-classifier's defaults (its lr is 0.002, the estimator's 0.001). */
  private static TextClassifier ringtrain(String arch, int epochs) {
    return new TextClassifier().setArchitecture(arch).setEpochs(epochs).setLr(0.002).setWorldSize(2).setSeed(42);
  }

  /** Tokenizer, stop words, CountVectorizer into "tf", then {@code idf} (may be null) and the classifier. */
  private static Pipeline mllib(PipelineStage idf, PipelineStage classifier) {
    List<PipelineStage> stages = new ArrayList<>(List.of(TextPipeline.tokenizer("text"), TextPipeline.stopWords("text"),
        new CountVectorizer().setInputCol(TextPipeline.TOKENS).setOutputCol("tf")));
    if (idf != null) {
      stages.add(idf);
    }
    stages.add(classifier);
    return new Pipeline().setStages(stages.toArray(new PipelineStage[0]));
  }

  private static void printTable(Map<String, List<double[]>> results) {
    double[] lr = results.containsKey("lr") ? means(results.get("lr")) : null;
    System.out.println();
    System.out.println("| model | accuracy | F1 | area under ROC | fit time (s) | accuracy - LR | AUC - LR |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
      List<double[]> runs = e.getValue();
      double[] mean = means(runs);
      StringBuilder row = new StringBuilder("| " + e.getKey() + " (" + runs.size() + " splits)");
      for (int k = 0; k < 4; k++) {
        row.append(String.format(Locale.ROOT, k == 3 ? " | %.1f ± %.1f" : " | %.4f ± %.4f", mean[k], spread(runs, k,
            mean[k])));
      }
      row.append(lr == null ? " | - | - |" : String.format(Locale.ROOT, " | %+.4f | %+.4f |", mean[0] - lr[0],
          mean[2] - lr[2]));
      System.out.println(row);
    }
    System.out.println("(mean ± sample standard deviation over the splits)");
  }

  private static double[] means(List<double[]> runs) {
    double[] m = new double[4];
    for (double[] r : runs) {
      for (int k = 0; k < 4; k++) {
        m[k] += r[k] / runs.size();
      }
    }
    return m;
  }

  private static double spread(List<double[]> runs, int k, double mean) {
    if (runs.size() < 2) {
      return 0;
    }
    double ss = 0;
    for (double[] r : runs) {
      ss += (r[k] - mean) * (r[k] - mean);
    }
    return Math.sqrt(ss / (runs.size() - 1));
  }
}
