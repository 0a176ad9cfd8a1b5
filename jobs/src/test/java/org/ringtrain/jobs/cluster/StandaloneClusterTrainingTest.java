// Issue #7, "Real cluster": ringtrain on a Spark standalone cluster whose Master, two Workers and
// their executors are separate JVMs, with the corpus, checkpoints and metrics log on a real HDFS
// (MiniDFSCluster). One cluster serves every test of the class. It proves what local mode cannot:
// ranks in different JVMs, HDFS as seen from executors, an executor JVM killed mid-run and replaced,
// and the pre-flight refusals against a real cluster's SparkContext. Spark's own channels run
// authenticated and encrypted, as conf/spark-defaults.conf ships them. Tagged "cluster": skip with
// -DexcludedGroups=cluster. Not a benchmark: it asserts no timings.
// Why over 300 lines: a standalone cluster and HDFS take ~1 minute to start, so every cluster case shares them in one class.
package org.ringtrain.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.checkpoint.Checkpoint;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.classify.ClassifierEvaluation;
import org.ringtrain.driver.classify.TextClassifier;
import org.ringtrain.driver.classify.TextPipeline;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.driver.metrics.MetricsSink;
import org.ringtrain.driver.train.RankResult;
import org.ringtrain.driver.train.TrainingResult;
import org.ringtrain.jobs.RingtrainCli;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.param.ParameterLayout;

@Tag("cluster")
@Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // only to start fewer SparkContexts: see the last test
class StandaloneClusterTrainingTest {
  private static final int WORLD = 2;
  private static final int VOCAB = 256; // byte tokenizer
  private static final long STEPS = 40;
  private static final long CHECKPOINT_EVERY = 5;
  /** The executor is killed when rank 0 reports this step: after the first checkpoint, long before the end. */
  private static final long KILL_AT_STEP = 8;
  private static final Duration STARTUP = Duration.ofMinutes(3);
  private static final String TRAINING_STAGE = "ringtrain train"; // GptTrainer's call site names the stage

  private static java.nio.file.Path dir;
  private static StandaloneCluster cluster;
  private static HdfsCluster hdfs;
  private static JavaSparkContext sc;
  private static String corpus; // an HDFS directory: two text files and a _SUCCESS marker
  private static java.nio.file.Path localCorpus; // the same two files on local disk
  private static CleanRun clean;

  /** The uninterrupted run every comparison uses, and the executors its ranks ran on. */
  private record CleanRun(TrainingResult result, TrainConfig config, Map<String, Set<String>> rankExecutors) {
  }

  @BeforeAll
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  static void startClusters() throws Exception {
    dir = Files.createTempDirectory("ringtrain-cluster-"); // under target/tmp; kept for its logs
    // The Master and Workers boot in their own JVMs while HDFS starts in this one.
    cluster = StandaloneCluster.start(dir.resolve("spark"), WORLD, 1, "1536m", STARTUP);
    hdfs = HdfsCluster.start(dir.resolve("hdfs"));
    corpus = hdfs.path("/corpus");
    localCorpus = Files.createDirectories(dir.resolve("local-corpus"));
    byte[] text = Files.readAllBytes(java.nio.file.Path.of("../data/moby-dick.txt"));
    int half = 48 * 1024;
    writeCorpusFile("moby-a.txt", Arrays.copyOfRange(text, 0, half));
    writeCorpusFile("moby-b.txt", Arrays.copyOfRange(text, half, 2 * half));
    try (FSDataOutputStream marker = hdfs.fileSystem().create(new Path(corpus + "/_SUCCESS"))) {
      marker.flush(); // an empty job marker, which input listing must skip
    }
    sc = new JavaSparkContext(trainingConf());
    // After Spark has set up logging: the NameNode's per-operation audit lines would drown the driver's.
    Configurator.setLevel("org.apache.hadoop.hdfs", Level.WARN);
    awaitExecutors(WORLD);
  }

  @AfterAll
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  static void stopClusters() {
    try {
      stopContext();
    } finally {
      try {
        if (cluster != null) {
          cluster.close();
        }
      } finally {
        if (hdfs != null) {
          hdfs.close();
        }
      }
    }
  }

  @Test
  @Order(1)
  void aCorpusOnHdfsLoadsIntoTheSamePartitionsAsTheSameFilesOnLocalDisk() throws Exception {
    TrainingData fromHdfs = load(corpus, 32, WORLD);
    TrainingData fromDisk = load(localCorpus.toUri().toString(), 32, WORLD);
    TrainingData fromGlob = load(corpus + "/moby-*.txt", 32, WORLD);

    assertEquals(2, fromHdfs.fileCount(), "both text files, not the _SUCCESS marker: " + fromHdfs);
    List<int[][]> expected = partitions(fromDisk.train());
    assertEquals(WORLD, expected.size());
    assertTrue(expected.get(0).length > 1000, "sequences per rank: " + expected.get(0).length);
    assertPartitionsEqual(expected, partitions(fromHdfs.train()), "train, HDFS directory");
    assertPartitionsEqual(expected, partitions(fromGlob.train()), "train, HDFS glob");
    assertPartitionsEqual(partitions(fromDisk.validation()), partitions(fromHdfs.validation()),
        "validation, HDFS directory");
    List.of(fromHdfs, fromDisk, fromGlob).forEach(TrainingData::unpersist);
  }

  @Test
  @Order(2)
  void twoRanksInTwoExecutorJvmsTrainFromHdfsWithIdenticalReplicasAndValidCheckpointsOnHdfs() throws Exception {
    CleanRun run = cleanRun();
    TrainingResult result = run.result();

    assertEquals(WORLD, result.ranks().size());
    for (RankResult r : result.ranks()) {
      assertEquals(0, r.stageAttempt(), "no retry in a clean run");
      assertEquals(0, r.firstStep());
      assertEquals(STEPS, r.lastStep());
      assertEquals(STEPS, r.hashSteps().length, "a replica check after every step");
    }
    assertTrue(result.replicasIdentical(), "every rank must hold bitwise-identical parameters after every step");
    assertArrayEquals(result.ranks().get(0).losses(), result.ranks().get(1).losses(), "one global loss per step");
    double[] losses = result.ranks().get(0).losses();
    assertTrue(losses[losses.length - 1] < losses[0] - 0.5, "loss should fall: " + losses[0] + " -> "
        + losses[losses.length - 1]);
    assertEquals(1, run.rankExecutors().size(), "one attempt of the training stage: " + run.rankExecutors());
    Set<String> executors = run.rankExecutors().values().iterator().next();
    assertEquals(WORLD, executors.size(), "each rank in its own executor JVM: " + executors);

    String ckptDir = run.config().loop().checkpoints().checkpointDir();
    List<String> names = assertEveryCheckpointValid(ckptDir);
    assertEquals(List.of("step-000000030", "step-000000035", "step-000000040"), names,
        "a checkpoint every 5 steps, the newest 3 kept");
    assertTrue(result.finalCheckpoint().startsWith(hdfs.uri() + "/runs/clean/"), result.finalCheckpoint());
    // The final checkpoint on HDFS holds exactly what every rank held in memory at the end.
    TrainedGpt trained = TrainedGpt.load(ckptDir, hadoopSettings());
    assertEquals(STEPS, trained.step());
    long[] hashes = result.ranks().get(0).paramHashes();
    assertEquals(hashes[hashes.length - 1], crc32c(trained.weights()), "CRC-32C of the checkpoint's parameters");

    List<MetricsEvent> log = metricsLog(run.config());
    assertEquals(STEPS, log.stream().filter(e -> e.event().equals("step")).count(), "one line per step: " + log);
    assertEquals("done", log.get(log.size() - 1).event());
    FileSystem fs = hdfs.fileSystem();
    assertTrue(fs.exists(new Path(ckptDir + "/loss.png")), "loss curve beside the checkpoints");
    FileStatus[] tensorboard = fs.listStatus(new Path(run.config().loop().resolvedTensorboardDir()));
    assertTrue(Arrays.stream(tensorboard).anyMatch(s -> s.getPath().getName().startsWith("events.out.tfevents.")
        && s.getLen() > 0), "a non-empty TensorBoard event file on HDFS");
  }

  @Test
  @Order(3)
  void anExecutorKilledMidRunIsReplacedAndEveryRankResumesFromTheNewestHdfsCheckpointToTheSameResult()
      throws Exception {
    CleanRun reference = cleanRun();
    TrainConfig cfg = reference.config().with("checkpointDir", hdfs.path("/runs/killed"));
    ExecutorKiller killer = new ExecutorKiller(KILL_AT_STEP);
    awaitExecutors(WORLD);

    TrainingResult retried = new GptTrainer(cfg).withMetricsSink(killer).fit(sc, load(cfg)).summary();

    assertNull(killer.problem, killer.problem);
    assertTrue(killer.killedPid > 0, "an executor was killed when rank 0 reported step " + KILL_AT_STEP);
    assertFalse(ProcessHandle.of(killer.killedPid).map(ProcessHandle::isAlive).orElse(false),
        "executor " + killer.killedPid + " is dead");
    long resumedAt = retried.ranks().get(0).firstStep();
    for (RankResult r : retried.ranks()) {
      assertTrue(r.stageAttempt() > 0, "rank " + r.rank() + "'s result comes from a retried stage attempt");
      assertEquals(resumedAt, r.firstStep(), "every rank resumes from the same checkpoint");
    }
    assertTrue(resumedAt >= killer.newestCheckpointBeforeKill && resumedAt > 0 && resumedAt < STEPS
        && resumedAt % CHECKPOINT_EVERY == 0, "resumed from step " + resumedAt + ", the newest checkpoint before the "
        + "kill was step " + killer.newestCheckpointBeforeKill);

    // The resumed steps repeat the clean run's steps exactly, up to float rounding.
    double[] cleanLosses = reference.result().ranks().get(0).losses();
    double[] resumedLosses = retried.ranks().get(0).losses();
    assertEquals(STEPS - resumedAt, resumedLosses.length);
    for (int i = 0; i < resumedLosses.length; i++) {
      double expectedLoss = cleanLosses[(int) resumedAt + i];
      assertEquals(expectedLoss, resumedLosses[i], 1e-5 * Math.abs(expectedLoss),
          "loss of step " + (resumedAt + i + 1));
    }
    assertTrue(retried.replicasIdentical());
    float[] expected = TrainedGpt.load(reference.config().loop().checkpoints().checkpointDir(), hadoopSettings()).weights();
    float[] actual = TrainedGpt.load(cfg.loop().checkpoints().checkpointDir(), hadoopSettings()).weights();
    double relative = ClusterAssertions.relativeDifference(actual, expected);
    assertTrue(relative < 1e-5, "final parameters differ from the uninterrupted run's by a relative " + relative);

    // Nothing is lost: every checkpoint left on HDFS verifies, and the log tells the story.
    List<String> names = assertEveryCheckpointValid(cfg.loop().checkpoints().checkpointDir());
    assertEquals("step-000000040", names.get(names.size() - 1));
    List<MetricsEvent> log = metricsLog(cfg);
    List<String> kinds = log.stream().map(MetricsEvent::event).toList();
    int failure = kinds.indexOf("failure");
    assertTrue(failure > kinds.indexOf("resume"), "the first resume (step 0), then the failure: " + kinds);
    MetricsEvent resume = log.subList(failure, log.size()).stream().filter(e -> e.event().equals("resume"))
        .findFirst().orElseThrow(() -> new AssertionError("no resume event after the failure: " + kinds));
    assertEquals(resumedAt, (long) resume.number("step"), "the resume event names the step: " + resume);
    assertTrue(resume.number("attempt") >= 1, resume.toString());
    assertTrue(String.valueOf(resume.fields().get("path")).endsWith(String.format("step-%09d", resumedAt)),
        resume.toString());
    assertEquals("done", kinds.get(kinds.size() - 1));

    // The Worker replaced the lost executor: the cluster is back to two executors.
    awaitExecutors(WORLD);
    assertTrue(cluster.executors().stream().flatMap(List::stream).noneMatch(p -> p.pid() == killer.killedPid));
  }

  @Test
  @Order(4)
  void aRunOnHdfsIsContinuedWithResumeAndItsMetricsLogAppendedTo() throws Exception {
    CleanRun reference = cleanRun();
    String copy = hdfs.path("/runs/continued");
    FileSystem fs = hdfs.fileSystem();
    assertTrue(FileUtil.copy(fs, new Path(reference.config().loop().checkpoints().checkpointDir()),
        fs, new Path(copy), false, fs.getConf()), "copy of the clean run's directory");
    TrainConfig again = reference.config().with("checkpointDir", copy);
    TrainingData data = load(again);

    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> new GptTrainer(again).fit(sc, data));
    assertTrue(refused.getMessage().contains("already holds 3 checkpoint(s) of an earlier run; pass --resume"),
        refused.getMessage());

    awaitExecutors(WORLD);
    TrainingResult continued = new GptTrainer(again.with("steps", STEPS + 5).with("resume", true)).fit(sc, data)
        .summary();
    assertEquals(STEPS, continued.ranks().get(0).firstStep(), "continues after the final checkpoint");
    assertEquals(5, continued.ranks().get(0).losses().length);
    assertTrue(continued.replicasIdentical());
    assertEquals(String.format("step-%09d", STEPS + 5), assertEveryCheckpointValid(copy).get(2));
    List<MetricsEvent> log = metricsLog(again);
    assertEquals(STEPS + 5, log.stream().filter(e -> e.event().equals("step")).count(),
        "the first run's step lines and the continuation's, appended to one file on HDFS");
    assertEquals(2, log.stream().filter(e -> e.event().equals("done")).count());
  }

  @Test
  @Order(5)
  void moreRanksThanSlotsIsRefusedBeforeAnySparkJobWithWhatToChange() throws Exception {
    TrainConfig cfg = cleanConfig().with("worldSize", 3).with("checkpointDir", hdfs.path("/runs/three-ranks"));
    TrainingData data = load(cfg);
    SparkJobRecorder jobs = new SparkJobRecorder();
    sc.sc().addSparkListener(jobs);
    try {
      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
          () -> new GptTrainer(cfg).fit(sc, data));
      assertTrue(refused.getMessage().contains("worldSize=3 needs 3 concurrent task slots but the cluster offers 2"),
          refused.getMessage());
      assertTrue(refused.getMessage().contains("lower worldSize or add executors"), refused.getMessage());
    } finally {
      sc.sc().removeSparkListener(jobs);
    }
    assertEquals(List.of(), jobs.jobDescriptions(), "no Spark job started (Spark's own check would wait ~10 min)");
    assertFalse(hdfs.fileSystem().exists(new Path(cfg.loop().checkpoints().checkpointDir())), "nothing written");
  }

  /**
   * Issue #6 on a real cluster: the text classifier trains through the same barrier stage with its
   * ranks in the executor JVMs (vocabulary and weights travel as Kryo broadcasts with registration
   * required), checkpoints on HDFS, and its saved pipeline predicts the same on the executors after a
   * round trip through HDFS.
   */
  @Test
  @Order(6)
  void aTextClassifierTrainsOnTheClusterAndItsPipelineRoundTripsThroughHdfs() throws Exception {
    String input = hdfs.path("/sentiment/sentences.jsonl");
    try (FSDataOutputStream out = hdfs.fileSystem().create(new Path(input))) {
      out.write(Files.readAllBytes(java.nio.file.Path.of("../data/sentiment/sentences.jsonl")));
    }
    SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
    Dataset<Row> raw = spark.read().json(input);
    Dataset<Row> data = new Pipeline().setStages(new PipelineStage[] {TextPipeline.tokenizer("text"),
        TextPipeline.stopWords("text")}).fit(raw).transform(raw)
        .filter(functions.size(functions.col(TextPipeline.TOKENS)).gt(0)).select("text", "label").cache();
    String checkpoints = hdfs.path("/runs/classifier");
    TextClassifier classifier = new TextClassifier().setArchitecture("transformer").setD(16).setLayers(1)
        .setHeads(2).setMaxLen(16).setEpochs(2).setBatchSize(32).setLr(3e-3).setWorldSize(WORLD)
        .setCheckpointDir(checkpoints);
    SparkJobRecorder jobs = new SparkJobRecorder();
    sc.sc().addSparkListener(jobs);
    PipelineModel model;
    try {
      model = TextPipeline.of("text", classifier).fit(data);
    } finally {
      sc.sc().removeSparkListener(jobs);
    }
    assertTrue(jobs.jobDescriptions().stream().anyMatch(d -> d.startsWith("ringtrain train")),
        "the classifier trained in the barrier stage: " + jobs.jobDescriptions());
    assertFalse(new CheckpointStore(hadoopSettings(), checkpoints, 3)
        .list().isEmpty(), "checkpoints on HDFS");

    List<Row> before = model.transform(data).select("prediction", "probability").collectAsList();
    String saved = hdfs.path("/models/sentiment");
    model.write().save(saved);
    List<Row> after = PipelineModel.load(saved).transform(data).select("prediction", "probability")
        .collectAsList();
    assertEquals(before, after, "the pipeline loaded from HDFS predicts exactly as the fitted one");
    ClassifierEvaluation m = ClassifierEvaluation.of(model.transform(data), "label", 2);
    assertTrue(m.accuracy() > m.majority() + 0.1, "training accuracy after 2 epochs: " + m.format());
  }

  /**
   * The task closures carry the ring secret and the Hadoop settings, so Spark's own channels must be
   * authenticated and encrypted: every JVM runs with conf/spark-defaults.conf's settings, executors
   * got the cluster secret from their Worker in their environment (not on a command line), and it
   * is in no file the cluster wrote but its private properties file.
   */
  @Test
  @Order(7)
  void sparksOwnChannelsAreAuthenticatedAndEncryptedAndTheSecretIsInNoLog() throws Exception {
    awaitExecutors(WORLD);
    List<String> executors = sc.parallelize(List.of(0, 1), WORLD).map(i -> {
      SparkConf conf = SparkEnv.get().conf();
      return "authenticate=" + conf.get("spark.authenticate") + " crypto=" + conf.get("spark.network.crypto.enabled")
          + " io=" + conf.get("spark.io.encryption.enabled") + " secretInEnv=" + System.getenv().containsKey(
          "_SPARK_AUTH_SECRET");
    }).collect();
    for (String e : executors) {
      assertEquals("authenticate=true crypto=true io=true secretInEnv=true", e);
    }
    java.nio.file.Path authFile = cluster.dir().resolve("spark-auth.properties");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(authFile)));
    byte[] secret = cluster.authSecret().getBytes(StandardCharsets.US_ASCII);
    List<java.nio.file.Path> leaks = new ArrayList<>();
    try (java.util.stream.Stream<java.nio.file.Path> files = Files.walk(dir)) {
      for (java.nio.file.Path f : files.filter(Files::isRegularFile).filter(f -> !f.equals(authFile)).toList()) {
        try {
          if (contains(Files.readAllBytes(f), secret)) {
            leaks.add(f);
          }
        } catch (NoSuchFileException gone) {
          // a temporary file removed meanwhile
        }
      }
    }
    assertEquals(List.of(), leaks, "files under " + dir + " that hold the cluster's Spark secret");
  }

  /**
   * The CLI as spark-submit runs it in client mode (settings as system properties, then main), with
   * dynamic allocation on. Runs last: it needs the only SparkContext of this JVM for itself.
   */
  @Test
  @Order(8)
  void theCliOnTheClusterWithDynamicAllocationIsRefusedBeforeTrainingWithWhatToChange() throws Exception {
    stopContext();
    Map<String, String> submitted = new LinkedHashMap<>(cluster.settings("1g"));
    submitted.put("spark.dynamicAllocation.enabled", "true");
    submitted.put("spark.hadoop.dfs.replication", "1");
    submitted.put("spark.extraListeners", SparkJobRecorder.class.getName());
    String ckpt = hdfs.path("/runs/dynamic");
    SparkJobRecorder earlier = SparkJobRecorder.newest();
    submitted.forEach(System::setProperty);
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int status;
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      status = RingtrainCli.run("train", "--config", "../conf/tiny.yaml", "--input", corpus, "--checkpoint-dir",
          ckpt, "--steps", "4", "--set", "warmupSteps=1", "--sample-tokens", "0");
    } finally {
      System.setErr(err);
      submitted.keySet().forEach(System::clearProperty);
    }
    String stderr = captured.toString(StandardCharsets.UTF_8);
    assertEquals(2, status, "exit status of a configuration error; stderr: " + stderr);
    assertTrue(stderr.contains("ringtrain: spark.dynamicAllocation.enabled=true: a barrier stage needs all 2 ranks")
        && stderr.contains("set spark.dynamicAllocation.enabled=false and spark.executor.instances=2"), stderr);
    SparkJobRecorder jobs = SparkJobRecorder.newest();
    assertTrue(jobs != earlier, "the CLI's SparkContext ran the recorder named in spark.extraListeners");
    assertFalse(jobs.jobDescriptions().isEmpty(), "the corpus was loaded on the cluster's executors");
    assertTrue(jobs.jobDescriptions().stream().noneMatch(d -> d.startsWith("ringtrain train")),
        "but no training job started: " + jobs.jobDescriptions());
  }

  // ---------------------------------------------------------------------------------------------

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** conf/spark-defaults.conf as shipped, resized for one-core, 1 GiB executors, on this cluster. */
  private static SparkConf trainingConf() throws IOException {
    return ShippedSparkConf.onCluster(cluster, "1g", "StandaloneClusterTrainingTest")
        .set("spark.hadoop.dfs.replication", "1");
  }

  private static void stopContext() {
    if (sc != null) {
      sc.stop();
      sc = null;
    }
  }

  /** A tiny model, a few seconds of training on 2 cores; checkpoints every 5 steps. */
  private static TrainConfig cleanConfig() {
    return TrainConfig.fromLayers(
        Map.of("input", corpus, "checkpointDir", hdfs.path("/runs/clean"), "contextLength", 32, "dModel", 32,
            "layers", 2, "heads", 2, "worldSize", WORLD, "microBatch", 4, "steps", STEPS),
        Map.of("learningRate", 3e-3, "minLearningRate", 3e-4, "warmupSteps", 2, "evalEvery", 10, "evalBatches", 2,
            "checkReplicasEvery", 1, "checkpointEvery", CHECKPOINT_EVERY, "keepCheckpoints", 3, "bucketMb", 1),
        Map.of("ringTimeoutSeconds", 60));
  }

  private static synchronized CleanRun cleanRun() throws Exception {
    if (clean == null) {
      TrainConfig cfg = cleanConfig();
      awaitExecutors(WORLD);
      SparkJobRecorder placements = new SparkJobRecorder();
      sc.sc().addSparkListener(placements);
      try {
        TrainingResult result = new GptTrainer(cfg).fit(sc, load(cfg)).summary();
        await("the listener bus delivers the training tasks' starts",
            () -> placements.executorsOfStages(TRAINING_STAGE, WORLD).values().stream()
                .mapToInt(Set::size).sum() >= WORLD);
        clean = new CleanRun(result, cfg, placements.executorsOfStages(TRAINING_STAGE, WORLD));
      } finally {
        sc.sc().removeSparkListener(placements);
      }
    }
    return clean;
  }

  private static TrainingData load(TrainConfig cfg) throws IOException {
    return load(cfg.input(), cfg.contextLength(), cfg.loop().worldSize());
  }

  private static TrainingData load(String input, int contextLength, int worldSize) throws IOException {
    return CorpusLoader.load(sc, new DatasetSpec(input, DatasetSpec.Format.TEXT, "byte", contextLength, 0.05,
        worldSize));
  }

  private static HadoopSettings hadoopSettings() {
    return hdfs.hadoopSettings();
  }

  private static void writeCorpusFile(String name, byte[] bytes) throws IOException {
    try (FSDataOutputStream out = hdfs.fileSystem().create(new Path(corpus + "/" + name))) {
      out.write(bytes);
    }
    Files.write(localCorpus.resolve(name), bytes);
  }

  /**
   * Every {@code step-N} entry of the checkpoint directory verifies (manifest, SHA-256 of every file,
   * weights and optimizer state parse), and no temporary or partial directory is left.
   *
   * @return the checkpoint names, oldest first
   */
  private static List<String> assertEveryCheckpointValid(String checkpointDir) throws IOException {
    CheckpointStore store = new CheckpointStore(hadoopSettings(), checkpointDir);
    ParameterLayout layout = GptModel.layout(cleanConfig().modelConfig(VOCAB));
    List<String> names = new ArrayList<>();
    for (FileStatus s : hdfs.fileSystem().listStatus(new Path(checkpointDir))) {
      String name = s.getPath().getName();
      assertFalse(name.contains(".tmp-"), "leftover temporary checkpoint directory " + s.getPath());
      if (name.startsWith("step-")) {
        try (Checkpoint ck = store.load(s.getPath().toString(), layout)) {
          assertEquals(name, String.format("step-%09d", ck.state().step()));
        }
        names.add(name);
      }
    }
    assertEquals(store.list().size(), names.size(), "every step directory is complete: " + names);
    return names.stream().sorted().toList();
  }

  private static List<MetricsEvent> metricsLog(TrainConfig cfg) throws IOException {
    List<MetricsEvent> events = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        hdfs.fileSystem().open(new Path(cfg.loop().resolvedMetricsLog())), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        events.add(MetricsEvent.fromJson(line));
      }
    }
    return events;
  }

  private static void awaitExecutors(int n) throws InterruptedException {
    ClusterAssertions.awaitExecutors(sc, n, cluster, STARTUP);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    ClusterAssertions.await(what, condition, STARTUP);
  }

  /** Each partition's sequences as one int[][] (a type the Kryo registrator knows), in partition order. */
  private static List<int[][]> partitions(JavaRDD<int[]> rdd) {
    return rdd.mapPartitions(it -> {
      List<int[]> rows = new ArrayList<>();
      it.forEachRemaining(rows::add);
      return java.util.Collections.singletonList(rows.toArray(new int[0][])).iterator();
    }).collect();
  }

  private static void assertPartitionsEqual(List<int[][]> expected, List<int[][]> actual, String what) {
    assertEquals(expected.size(), actual.size(), what + ": partitions");
    for (int p = 0; p < expected.size(); p++) {
      assertEquals(expected.get(p).length, actual.get(p).length, what + ": sequences in partition " + p);
      for (int i = 0; i < expected.get(p).length; i++) {
        assertArrayEquals(expected.get(p)[i], actual.get(p)[i], what + ": partition " + p + " sequence " + i);
      }
    }
  }

  /** CRC-32C of float32 parameters as the ranks hash them (little-endian bytes, x86 native order). */
  private static long crc32c(float[] weights) {
    ByteBuffer bytes = ByteBuffer.allocate(weights.length * Float.BYTES).order(ByteOrder.nativeOrder());
    bytes.asFloatBuffer().put(weights);
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return crc.getValue();
  }

  /**
   * Kills one executor JVM (SIGKILL, as a crashed machine) when rank 0 reports step {@code atStep}.
   * Called on the metrics server's thread; records rather than throws, since the server only logs a
   * sink's exception.
   */
  private static final class ExecutorKiller implements MetricsSink {
    private final long atStep;
    volatile long killedPid = -1;
    volatile long newestCheckpointBeforeKill = -1;
    volatile String problem;

    ExecutorKiller(long atStep) {
      this.atStep = atStep;
    }

    @Override
    public void accept(MetricsEvent event) {
      if (killedPid > 0 || problem != null) {
        return;
      }
      if (event.event().equals("checkpoint")) {
        newestCheckpointBeforeKill = (long) event.number("step");
      } else if (event.event().equals("step") && event.number("step") >= atStep) {
        List<List<ProcessHandle>> executors = cluster.executors();
        List<ProcessHandle> last = executors.get(executors.size() - 1);
        if (last.size() != 1) {
          problem = "expected one executor JVM under the last Worker, found (per Worker) " + executors;
          return;
        }
        last.get(0).destroyForcibly();
        killedPid = last.get(0).pid();
      }
    }
  }
}
