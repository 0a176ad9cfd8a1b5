// Runs the plain spark-submit example (k8s/spark-submit/train.sh) with a stand-in spark-submit
// that prints its arguments, and checks the command it would run: the same Spark settings as the
// operator manifests (CPU, and GPU with GPUS=1), credentials from a Secret, and job arguments the
// real CLI parses into a valid, resuming TrainConfig. No cluster is contacted. Needs bash.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.jobs.k8s.ImageLayout;
import org.ringtrain.jobs.k8s.RepoFiles;
import org.ringtrain.jobs.k8s.SparkApplicationSchema;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SparkSubmitScriptTest {
  private static final Path BASH = Path.of("/bin/bash");

  @TempDir
  Path tmp;

  /** What the script passed to spark-submit: its options, --conf settings and the job's arguments. */
  private record Submit(Map<String, String> options, Map<String, String> conf, List<String> jobArgs) {
  }

  private Submit submit(Map<String, String> env, String... extraJobFlags) throws Exception {
    assumeTrue(Files.isExecutable(BASH), "bash is needed to run the example script");
    Path fake = tmp.resolve("spark-submit");
    Files.writeString(fake, "#!/bin/bash\nprintf '%s\\n' \"$@\"\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<String> command = new java.util.ArrayList<>(List.of(BASH.toString(),
        RepoFiles.file("k8s/spark-submit/train.sh").toString()));
    command.addAll(List.of(extraJobFlags));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("K8S_API", "https://10.0.0.1:6443");
    pb.environment().put("IMAGE", "registry.example.com/ringtrain:0.1.0-spark4.1.0");
    pb.environment().put("INPUT", "s3a://my-bucket/corpora/tinyshakespeare.txt");
    pb.environment().put("CHECKPOINT_DIR", "s3a://my-bucket/ringtrain/runs/gpt-small");
    pb.environment().put("SPARK_SUBMIT", fake.toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    List<String> argv = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), err);
    Map<String, String> options = new LinkedHashMap<>();
    Map<String, String> conf = new LinkedHashMap<>();
    int i = 0;
    while (!argv.get(i).startsWith("local://")) {
      if (argv.get(i).equals("--conf")) {
        String[] kv = argv.get(i + 1).split("=", 2);
        assertFalse(conf.containsKey(kv[0]), "set twice: " + kv[0]);
        conf.put(kv[0], kv[1]);
      } else {
        options.put(argv.get(i), argv.get(i + 1));
      }
      i += 2;
    }
    options.put("jar", argv.get(i));
    return new Submit(options, conf, argv.subList(i + 1, argv.size()));
  }

  private static JsonNode sparkConf(String manifest) throws Exception {
    return SparkApplicationSchema.readYaml(RepoFiles.file("k8s/sparkapplication/" + manifest)).at("/spec/sparkConf");
  }

  private static TrainConfig trainConfig(List<String> jobArgs) {
    CommandLine.ParseResult parsed = new CommandLine(new RingtrainCli()).parseArgs(jobArgs.toArray(String[]::new));
    TrainCommand train = (TrainCommand) parsed.subcommand().commandSpec().userObject();
    train.config = SparkApplicationManifestTest.inRepository(train.config.toString());
    return train.resolve();
  }

  @Test
  void submitsInClusterModeTheJobsEntryPointFromTheImagesJar() throws Exception {
    Submit s = submit(Map.of());
    assertEquals("k8s://https://10.0.0.1:6443", s.options().get("--master"));
    assertEquals("cluster", s.options().get("--deploy-mode"));
    assertEquals(RingtrainCli.class.getName(), s.options().get("--class"));
    assertEquals("local://" + ImageLayout.APP_JAR, s.options().get("jar"));
  }

  @Test
  void usesEverySparkSettingOfTheCpuManifest() throws Exception {
    Submit s = submit(Map.of());
    sparkConf("gpt-train-cpu.yaml").fields().forEachRemaining(e -> assertEquals(e.getValue().asText(),
        s.conf().get(e.getKey()), e.getKey()));
    TrainConfig cfg = trainConfig(s.jobArgs());
    assertEquals(String.valueOf(cfg.loop().worldSize()), s.conf().get("spark.executor.instances"));
    assertEquals(s.conf().get("spark.task.cpus"), s.conf().get("spark.executor.cores"));
    assertTrue(cfg.loop().checkpoints().resume(), "--resume: running the script again continues the run");
  }

  @Test
  void withGpusUsesTheGpuManifestsResourceSettingsAndNoSampleOnTheDriver() throws Exception {
    Submit s = submit(Map.of("GPUS", "1", "WORLD_SIZE", "4", "TASK_CPUS", "4"));
    sparkConf("gpt-train-gpu.yaml").fields().forEachRemaining(e -> {
      if (e.getKey().contains(".resource.") || e.getKey().startsWith("spark.task.cpus")) {
        assertEquals(e.getValue().asText(), s.conf().get(e.getKey()), e.getKey());
      }
    });
    assertEquals("4", s.conf().get("spark.executor.instances"));
    assertTrue(String.join(" ", s.jobArgs()).contains("--sample-tokens 0"), s.jobArgs().toString());
    assertEquals(4, trainConfig(s.jobArgs()).loop().worldSize());
  }

  @Test
  void takesObjectStoreCredentialsFromASecret() throws Exception {
    Submit s = submit(Map.of());
    for (String pod : List.of("driver", "executor")) {
      assertEquals("ringtrain-s3:access-key-id",
          s.conf().get("spark.kubernetes." + pod + ".secretKeyRef.AWS_ACCESS_KEY_ID"));
      assertEquals("ringtrain-s3:secret-access-key",
          s.conf().get("spark.kubernetes." + pod + ".secretKeyRef.AWS_SECRET_ACCESS_KEY"));
    }
    assertTrue(s.conf().keySet().stream().noneMatch(k -> k.contains("fs.s3a.secret.key")
        || k.contains("fs.s3a.access.key") || k.contains("executorEnv.AWS_SECRET")), s.conf().keySet().toString());
  }

  @Test
  void passesExtraFlagsThroughToTheJob() throws Exception {
    assertTrue(Files.isExecutable(RepoFiles.file("k8s/spark-submit/train.sh")));
    Submit s = submit(Map.of(), "--steps", "2000", "--set", "microBatch=16");
    List<String> args = s.jobArgs();
    assertEquals("train", args.get(0));
    assertEquals(ImageLayout.CONF_DIR + "small.yaml", args.get(args.indexOf("--config") + 1));
    TrainConfig cfg = trainConfig(args);
    assertEquals(2000, cfg.loop().steps());
    assertEquals(16, cfg.loop().microBatch());
  }
}
