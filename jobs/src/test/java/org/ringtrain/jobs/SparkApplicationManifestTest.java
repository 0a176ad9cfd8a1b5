// ringtrain's Spark operator manifests (k8s/sparkapplication/*.yaml) checked as the cluster and
// the job would see them: against the operator's CRD schema with unknown fields refused, against
// the jobs' real CLI parser and TrainConfig validation, and against what a barrier training stage
// needs (one rank per executor, every rank at once, finite timeouts, restart and resume, shared
// checkpoints, credentials from Secrets, Spark's own channels authenticated and encrypted with a
// secret mounted from a Secret, one rank per GPU). It submits nothing to a cluster.
// Why over 300 lines: every rule is checked against every manifest through one parsed-manifest fixture.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.train.CheckpointSettings;
import org.ringtrain.jobs.k8s.ImageLayout;
import org.ringtrain.jobs.k8s.RepoFiles;
import org.ringtrain.jobs.k8s.SparkApplicationSchema;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SparkApplicationManifestTest {
  /** The longest barrier wait a manifest may configure; Spark's own default is 365 days. */
  private static final long MAX_BARRIER_TIMEOUT_SECONDS = 3600;
  private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(secret|password|token|access_key|credential).*");
  private static final Pattern SECRET_CONF = Pattern.compile(
      "(?i).*(access\\.key|secret\\.key|session\\.token|password|secret)$");
  private static final Set<String> SHARED_FILESYSTEMS = Set.of("s3a", "hdfs", "gs", "abfs", "abfss", "wasbs");

  private static SparkApplicationSchema schema;

  @BeforeAll
  static void loadCrd() throws IOException {
    schema = SparkApplicationSchema.load(RepoFiles.file("k8s/crd/sparkoperator.k8s.io_sparkapplications.yaml"));
  }

  static List<Path> manifests() throws IOException {
    return RepoFiles.manifests();
  }

  @Test
  void coversTrainingOnCpuAndOnGpuExecutors() throws IOException {
    List<Boolean> gpu = new ArrayList<>();
    for (Path m : manifests()) {
      gpu.add(SparkApplicationSchema.readYaml(m).at("/spec/executor/gpu").isObject());
    }
    assertTrue(gpu.contains(false) && gpu.contains(true), "a CPU and a GPU manifest in k8s/sparkapplication: " + gpu);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void validatesAgainstTheOperatorsCrdWithNoUnknownFields(Path manifest) throws IOException {
    assertEquals(List.of(), schema.validate(SparkApplicationSchema.readYaml(manifest)), manifest.toString());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void runsTheJobsEntryPointFromTheImagesApplicationJar(Path manifest) throws Exception {
    JsonNode spec = spec(manifest);
    Class<?> main = Class.forName(spec.path("mainClass").asText());
    assertEquals(RingtrainCli.class, main);
    Method entry = main.getMethod("main", String[].class);
    assertTrue(Modifier.isStatic(entry.getModifiers()) && Modifier.isPublic(entry.getModifiers()));
    assertEquals("Java", spec.path("type").asText());
    assertEquals("local://" + ImageLayout.APP_JAR, spec.path("mainApplicationFile").asText());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void argumentsParseWithTheRealCliAndResolveToAValidJob(Path manifest) throws IOException {
    Job job = job(manifest);
    assertFalse(job.input().isBlank(), "--input");
    assertFalse(job.checkpointDir().isBlank(), "--checkpoint-dir: on a cluster checkpoints need shared storage");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void runsOneRankPerExecutorWithEveryRankPresentAtOnce(Path manifest) throws IOException {
    JsonNode spec = spec(manifest);
    Job cfg = job(manifest);
    JsonNode conf = spec.path("sparkConf");
    assertEquals(cfg.worldSize(), spec.at("/executor/instances").asInt(), "executor.instances = worldSize");
    int taskCpus = Integer.parseInt(conf.path("spark.task.cpus").asText("1"));
    assertEquals(taskCpus, spec.at("/executor/cores").asInt(), "executor.cores = spark.task.cpus");
    if (conf.has("spark.executor.cores")) {
      assertEquals(taskCpus, Integer.parseInt(conf.path("spark.executor.cores").asText()));
    }
    assertFalse(conf.has("spark.executor.instances"), "executor.instances is the one place for the executor count");
    assertEquals("false", conf.path("spark.dynamicAllocation.enabled").asText(), "dynamic allocation off");
    assertFalse(spec.at("/dynamicAllocation/enabled").asBoolean(false), "spec.dynamicAllocation off");
    assertEquals("false", conf.path("spark.speculation").asText("false"), "no speculative copies of a rank");
    assertEquals(1.0, Double.parseDouble(conf.path("spark.scheduler.minRegisteredResourcesRatio").asText("0")),
        "every executor registered before the barrier stage is scheduled");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void boundsEveryBarrierWaitWithAFiniteTimeout(Path manifest) throws IOException {
    JsonNode conf = spec(manifest).path("sparkConf");
    long sync = seconds(conf.path("spark.barrier.sync.timeout").asText(""));
    assertTrue(sync > 0 && sync <= MAX_BARRIER_TIMEOUT_SECONDS, "spark.barrier.sync.timeout set and finite: " + sync);
    assertTrue(seconds(conf.path("spark.scheduler.maxRegisteredResourcesWaitingTime").asText("")) > 0);
    long checks = Long.parseLong(conf.path("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures").asText());
    long interval = seconds(conf.path("spark.scheduler.barrier.maxConcurrentTasksCheck.interval").asText(""));
    assertTrue(checks > 0 && interval > 0 && checks * interval <= 2 * MAX_BARRIER_TIMEOUT_SECONDS,
        "the slot check gives up after a bounded time: " + checks + " x " + interval + "s");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void restartsOnFailureAndResumesFromTheNewestCheckpoint(Path manifest) throws IOException {
    JsonNode spec = spec(manifest);
    JsonNode restart = spec.path("restartPolicy");
    assertEquals("OnFailure", restart.path("type").asText());
    assertTrue(restart.path("onFailureRetries").asInt(0) >= 1, "retries after a failed run");
    assertTrue(restart.path("onSubmissionFailureRetries").asInt(0) >= 1, "required with OnFailure");
    assertTrue(job(manifest).resume(), "--resume: a restarted run continues from the newest checkpoint");
    assertTrue(Integer.parseInt(spec.path("sparkConf").path("spark.task.maxFailures").asText("4")) >= 2,
        "a failed barrier stage is retried inside the run first");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void keepsCorpusAndCheckpointsOnStorageEveryPodSees(Path manifest) throws IOException {
    JsonNode spec = spec(manifest);
    for (String location : job(manifest).sharedLocations()) {
      String scheme = URI.create(location).getScheme();
      if ("file".equals(scheme)) {
        String path = URI.create(location).getPath();
        for (String pod : List.of("driver", "executor")) {
          assertTrue(onPersistentVolume(spec, pod, path), location + " must lie on a PersistentVolumeClaim "
              + "mounted in the " + pod + " (a pod's own disk is lost with the pod and unseen by the others)");
        }
      } else {
        assertTrue(SHARED_FILESYSTEMS.contains(scheme), location + ": use s3a://, hdfs:// or a PVC (file://)");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void authenticatesAndEncryptsSparksOwnChannelsWithASecretMountedFromAKubernetesSecret(Path manifest)
      throws IOException {
    JsonNode conf = spec(manifest).path("sparkConf");
    for (String key : List.of("spark.authenticate", "spark.network.crypto.enabled", "spark.io.encryption.enabled")) {
      assertEquals("true", conf.path(key).asText(), key + ": the task closures carry the ring secret");
    }
    assertTrue(conf.path("spark.authenticate.secret").isMissingNode(), "no literal secret in the manifest");
    String file = conf.path("spark.authenticate.secret.file").asText();
    List<String> mounts = new ArrayList<>();
    conf.fieldNames().forEachRemaining(key -> {
      if (key.matches("spark\\.kubernetes\\.(driver|executor)\\.secrets\\..+")) {
        mounts.add(key.replaceFirst("\\.secrets\\..*", "") + " " + conf.path(key).asText());
      }
    });
    String dir = file.substring(0, Math.max(0, file.lastIndexOf('/')));
    assertEquals(List.of("spark.kubernetes.driver " + dir, "spark.kubernetes.executor " + dir), mounts.stream()
        .sorted().toList(), "spark.authenticate.secret.file " + file + " must lie in a Secret mounted into the "
        + "driver and every executor (otherwise Spark hands executors the secret in a pod env var)");
  }

  @Test
  void theShippedSparkDefaultsAuthenticateAndEncryptSparksChannelsAndHoldNoSecret() throws IOException {
    java.util.Properties defaults = new java.util.Properties();
    try (java.io.Reader in = Files.newBufferedReader(RepoFiles.file("conf/spark-defaults.conf"))) {
      defaults.load(in);
    }
    for (String key : List.of("spark.authenticate", "spark.network.crypto.enabled", "spark.io.encryption.enabled")) {
      assertEquals("true", defaults.getProperty(key, "").trim(), key);
    }
    assertTrue(defaults.stringPropertyNames().stream().noneMatch(k -> k.startsWith("spark.authenticate.secret")),
        "the secret comes from the cluster (YARN, Kubernetes) or a private file, never from this repository");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void takesCredentialsOnlyFromKubernetesSecrets(Path manifest) throws IOException {
    JsonNode spec = spec(manifest);
    spec.path("sparkConf").fieldNames().forEachRemaining(key -> assertFalse(SECRET_CONF.matcher(key).matches(),
        "credential inline in sparkConf: " + key + "; put it in a Secret and use env secretKeyRef"));
    spec.path("hadoopConf").fieldNames().forEachRemaining(key -> assertFalse(SECRET_CONF.matcher(key).matches(),
        "credential inline in hadoopConf: " + key));
    Set<String> secretEnv = new HashSet<>();
    for (String pod : List.of("driver", "executor")) {
      assertFalse(anyMatches(spec.path(pod).path("envVars")), pod + ".envVars holds a credential inline");
      for (JsonNode env : spec.path(pod).path("env")) {
        String name = env.path("name").asText();
        if (SECRET_NAME.matcher(name).matches()) {
          assertFalse(env.has("value"), pod + " env " + name + " is inline; use valueFrom.secretKeyRef");
          assertTrue(env.at("/valueFrom/secretKeyRef/name").isTextual(), pod + " env " + name + " from a Secret");
        }
        if (env.at("/valueFrom/secretKeyRef").isObject()) {
          secretEnv.add(pod + ":" + name);
        }
      }
    }
    if (job(manifest).sharedLocations().stream().anyMatch(l -> l.startsWith("s3a://"))) {
      for (String pod : List.of("driver", "executor")) {
        for (String name : List.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")) {
          assertTrue(secretEnv.contains(pod + ":" + name), pod + " needs " + name + " from a Secret for s3a://");
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void runsAnImageOfThePomsSparkVersion(Path manifest) throws IOException {
    JsonNode spec = spec(manifest);
    String spark = RepoFiles.pomProperty("spark.version");
    assertEquals(spark, spec.path("sparkVersion").asText());
    String image = spec.path("image").asText();
    Matcher tag = Pattern.compile(".*:.*spark(\\d+\\.\\d+\\.\\d+).*").matcher(image);
    assertTrue(tag.matches(), "image tag names its Spark version (…-spark<version>): " + image);
    assertEquals(spark, tag.group(1), image);
    boolean gpu = spec.at("/executor/gpu").isObject();
    assertEquals(gpu, image.contains("/ringtrain-cuda:"), "GPU manifests run the CUDA image, CPU ones the CPU image");
    assertFalse(spec.at("/driver/image").isTextual() || spec.at("/executor/image").isTextual(),
        "driver and executors run the same image (one jar, one set of classes)");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void schedulesExactlyOneRankPerGpu(Path manifest) throws IOException {
    JsonNode spec = spec(manifest);
    assumeTrue(spec.at("/executor/gpu").isObject(), "a GPU manifest");
    JsonNode conf = spec.path("sparkConf");
    assertEquals("nvidia.com/gpu", spec.at("/executor/gpu/name").asText());
    long perExecutor = spec.at("/executor/gpu/quantity").asLong();
    assertTrue(perExecutor >= 1);
    assertEquals(perExecutor, Long.parseLong(conf.path("spark.executor.resource.gpu.amount").asText("0")),
        "Spark schedules on the GPUs the pod gets");
    assertEquals("nvidia.com", conf.path("spark.executor.resource.gpu.vendor").asText());
    assertEquals(ImageLayout.GPU_DISCOVERY_SCRIPT, conf.path("spark.executor.resource.gpu.discoveryScript").asText());
    long perTask = Long.parseLong(conf.path("spark.task.resource.gpu.amount").asText("0"));
    assertEquals(1, perExecutor / perTask, "one task (rank) per executor, and per GPU");
    if (!spec.at("/driver/gpu").isObject()) {
      assertTrue(String.join(" ", arguments(manifest)).contains("--sample-tokens 0"),
          "the driver has no GPU, so it must not load the model for a sample");
    }
  }

  @Test
  void acceptsTheDocumentedGangSchedulingSettings() throws IOException {
    Path gpu = manifests().stream().filter(m -> m.getFileName().toString().contains("gpu")).findFirst().orElseThrow();
    String doc = Files.readString(RepoFiles.file("docs/kubernetes.md"));
    for (String[] scheduler : new String[][] {{"volcano", "default"}, {"yunikorn", "root.default"}}) {
      ObjectNode manifest = (ObjectNode) SparkApplicationSchema.readYaml(gpu);
      ObjectNode spec = (ObjectNode) manifest.get("spec");
      spec.put("batchScheduler", scheduler[0]);
      spec.putObject("batchSchedulerOptions").put("queue", scheduler[1]);
      assertEquals(List.of(), schema.validate(manifest), scheduler[0]);
      assertTrue(doc.contains("batchScheduler: " + scheduler[0]) && doc.contains("queue: " + scheduler[1]),
          "docs/kubernetes.md shows batchScheduler: " + scheduler[0] + " with queue: " + scheduler[1]);
    }
  }

  /**
   * What a manifest's training job does, as the real CLI parses its arguments.
   *
   * @param worldSize       ranks, one per executor
   * @param resume          whether a restarted run continues from the newest checkpoint
   * @param input           the training data
   * @param checkpointDir   where checkpoints go
   * @param sharedLocations every path the job reads or writes, which every pod must see
   */
  record Job(int worldSize, boolean resume, String input, String checkpointDir, List<String> sharedLocations) {
  }

  /** The manifest's job: `train` (resolved to its TrainConfig) or `train-classifier`. */
  static Job job(Path manifest) throws IOException {
    List<String> args = arguments(manifest);
    CommandLine cli = new CommandLine(new RingtrainCli());
    CommandLine.ParseResult parsed = cli.parseArgs(args.toArray(String[]::new));
    assertTrue(parsed.hasSubcommand(), "arguments start with a job: " + args);
    Object job = parsed.subcommand().commandSpec().userObject();
    if (job instanceof TrainClassifierCommand c) {
      return new Job(c.worldSize, c.resume, c.input, c.checkpointDir, List.of(c.input, c.checkpointDir, c.modelDir));
    }
    assertTrue(job instanceof TrainCommand, "a training job (train or train-classifier): " + args);
    TrainConfig cfg = trainConfig(manifest);
    CheckpointSettings checkpoints = cfg.loop().checkpoints();
    return new Job(cfg.loop().worldSize(), checkpoints.resume(), cfg.input(), checkpoints.checkpointDir(),
        List.of(cfg.input(), checkpoints.checkpointDir()));
  }

  /** A `train` manifest's arguments resolved to the TrainConfig the job would run. */
  static TrainConfig trainConfig(Path manifest) throws IOException {
    List<String> args = arguments(manifest);
    CommandLine cli = new CommandLine(new RingtrainCli());
    CommandLine.ParseResult parsed = cli.parseArgs(args.toArray(String[]::new));
    TrainCommand train = (TrainCommand) parsed.subcommand().commandSpec().userObject();
    assertNotNull(train.config, "--config " + ImageLayout.CONF_DIR + "<file>");
    train.config = inRepository(train.config.toString());
    return train.resolve();
  }

  /** A path inside the image's conf directory, mapped to the repository file the image copies there. */
  static Path inRepository(String imagePath) {
    assertTrue(imagePath.startsWith(ImageLayout.CONF_DIR), "configs live in " + ImageLayout.CONF_DIR + ": " + imagePath);
    Path file = RepoFiles.file("conf").resolve(imagePath.substring(ImageLayout.CONF_DIR.length()));
    assertTrue(Files.isRegularFile(file), imagePath + " is not in the image: no " + file);
    return file;
  }

  private static List<String> arguments(Path manifest) throws IOException {
    List<String> args = new ArrayList<>();
    spec(manifest).path("arguments").forEach(a -> args.add(a.asText()));
    return args;
  }

  private static JsonNode spec(Path manifest) throws IOException {
    return SparkApplicationSchema.readYaml(manifest).path("spec");
  }

  private static boolean onPersistentVolume(JsonNode spec, String pod, String path) {
    for (JsonNode mount : spec.path(pod).path("volumeMounts")) {
      String dir = mount.path("mountPath").asText();
      if (path.equals(dir) || path.startsWith(dir.endsWith("/") ? dir : dir + "/")) {
        for (JsonNode volume : spec.path("volumes")) {
          if (volume.path("name").asText().equals(mount.path("name").asText())
              && volume.at("/persistentVolumeClaim/claimName").isTextual()) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static boolean anyMatches(JsonNode envVars) {
    List<String> names = new ArrayList<>();
    envVars.fieldNames().forEachRemaining(names::add);
    return names.stream().anyMatch(n -> SECRET_NAME.matcher(n).matches());
  }

  /** A Spark time setting ("900s", "10min", "1h", or plain seconds) in seconds. */
  static long seconds(String value) {
    Matcher m = Pattern.compile("(\\d+)\\s*(ms|s|m|min|h|d)?").matcher(value.trim());
    assertTrue(m.matches(), "a Spark duration such as 900s: '" + value + "'");
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> n / 1000;
      case "s" -> n;
      case "m", "min" -> n * 60;
      case "h" -> n * 3600;
      default -> n * 86400;
    };
  }
}
