// The jobs as a user runs them: the README's main command (shortened), then
// generate, evaluate and tokenize on its output, and every configuration error
// the CLI must report before Spark starts, with its message and exit status 2.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RingtrainCliTest {
  private static final String TINY = "../conf/tiny.yaml";
  private static final String CORPUS = "../data/moby-dick.txt";

  @TempDir
  Path tmp;

  private static CliRun run(String... args) {
    return CliRun.run(args);
  }


  @Test
  void theReadmeCommandTrainsThenGenerateEvaluateAndTokenizeUseItsOutput() throws IOException {
    String runDir = tmp.resolve("moby").toString();
    CliRun train = run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", runDir, "--steps", "4",
        "--set", "warmupSteps=1", "--set", "evalEvery=2", "--sample-tokens", "16");
    assertEquals(0, train.status(), train.err());
    try (Stream<Path> dirs = Files.list(tmp.resolve("moby"))) {
      assertTrue(dirs.anyMatch(p -> p.getFileName().toString().equals("step-000000004")), "final checkpoint");
    }
    assertTrue(Files.readString(tmp.resolve("moby/metrics.jsonl")).contains("\"event\":\"done\""));

    CliRun generate = run("generate", "--checkpoint-dir", runDir, "--prompt", "Call me", "--tokens", "30");
    assertEquals(0, generate.status(), generate.err());
    assertTrue(generate.out().startsWith("Call me") && generate.out().length() > "Call me".length() + 10,
        generate.out());

    CliRun evaluate = run("evaluate", "--checkpoint-dir", runDir, "--input", CORPUS);
    assertEquals(0, evaluate.status(), evaluate.err());
    double loss = Double.parseDouble(evaluate.out().lines().filter(l -> l.startsWith("loss ")).findFirst()
        .orElseThrow().substring(5));
    assertTrue(loss > 0 && loss < Math.log(256) + 0.5, "loss of a briefly trained byte model: " + loss);

    CliRun tokenize = run("tokenize", "--input", CORPUS, "--output", tmp.resolve("shards").toString(),
        "--tokenizer", "gpt2");
    assertEquals(0, tokenize.status(), tokenize.err());
    try (Stream<Path> shards = Files.list(tmp.resolve("shards"))) {
      assertTrue(shards.anyMatch(p -> p.getFileName().toString().endsWith(".bin")), "shards written");
    }
  }

  @Test
  void configurationErrorsAreReportedBeforeSparkStartsWithWhatToDo() throws IOException {
    Path empty = Files.createFile(tmp.resolve("empty.txt"));
    Path shortText = Files.writeString(tmp.resolve("short.txt"), "too short for one sequence");
    Path blocker = Files.writeString(tmp.resolve("a-file"), "x");
    String ckpt = tmp.resolve("ckpt").toString();
    expectConfigError("heads = 3; heads must divide dModel=128",
        () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", ckpt, "--set", "heads=3"));
    expectConfigError("contextLength = 1; a model needs at least 2 tokens",
        () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", ckpt, "--set", "contextLength=1"));
    expectConfigError("does not exist",
        () -> run("train", "--config", TINY, "--input", tmp.resolve("missing.txt").toString(), "--checkpoint-dir", ckpt));
    expectConfigError("is empty",
        () -> run("train", "--config", TINY, "--input", empty.toString(), "--checkpoint-dir", ckpt));
    expectConfigError("fewer than one sequence of contextLength+1=65 tokens",
        () -> run("train", "--config", TINY, "--input", shortText.toString(), "--checkpoint-dir", ckpt));
    expectConfigError("choose a directory you can write",
        () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", blocker.resolve("sub").toString()));
    expectConfigError("unknown-setting",
        () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", ckpt, "--set", "unknown-setting=1"));
    expectConfigError("dropout = 1.0; use a probability in [0, 1)",
        () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", ckpt, "--set", "dropout=1"));
    expectConfigError("does not exist",
        () -> run("train", "--config", TINY, "--input", tmp.resolve("missing.parquet").toString(), "--format",
            "parquet", "--text-column", "body", "--checkpoint-dir", ckpt));
    expectConfigError("--text-column body names a column of a table",
        () -> run("train", "--config", TINY, "--input", CORPUS, "--text-column", "body", "--checkpoint-dir", ckpt));
    System.setProperty("spark.master", "local[2]");
    try {
      expectConfigError("worldSize=3 needs 3 task slots but master local[2] has 2",
          () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", ckpt, "--world-size", "3"));
    } finally {
      System.clearProperty("spark.master");
    }
  }

  @Test
  void settingsThatUsedToFailOnTheExecutorsAreConfigErrorsBeforeSparkStarts() throws IOException {
    String ckpt = tmp.resolve("ckpt").toString();
    // 1,301 bytes: 20 sequences at contextLength 64, 18 for training: fewer than 2 ranks x 10.
    Path small = Files.write(tmp.resolve("small.txt"), new byte[64 * 20 + 21]);
    expectConfigError("one step needs worldSize=2 x microBatch=10 x gradAccumSteps=1 = 20 training sequences, but",
        () -> run("train", "--config", TINY, "--input", small.toString(), "--checkpoint-dir", ckpt, "--set",
            "microBatch=10"));
    for (String key : new String[] {"learningRate", "gradClip", "weightDecay"}) {
      expectConfigError(key + " = Infinity",
          () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", ckpt, "--set", key + "=Infinity"));
    }
    int cores = Runtime.getRuntime().availableProcessors();
    expectConfigError("threadsPerRank=" + (cores + 1) + " is more threads than the " + cores + " cores",
        () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", ckpt, "--set",
            "threadsPerRank=" + (cores + 1)));
    expectConfigError("ringTimeoutSeconds=5 is shorter than a checkpoint may take",
        () -> run("train", "--config", TINY, "--input", CORPUS, "--checkpoint-dir", ckpt, "--set",
            "ringTimeoutSeconds=5"));
  }

  @Test
  void theGpt2PresetIsRefusedBeforeSparkStartsWhenItsMemoryEstimateExceedsTheLimit() {
    // 2 ranks x (1.85 GiB of parameter state + 22 GiB of activations at B 16 without recomputation)
    // exceed this JVM's off-heap limit (JavaCPP's maxphysicalbytes less the heap) and the RAM.
    CliRun r = run("train", "--config", "../conf/gpt2-124m.yaml", "--input", CORPUS, "--checkpoint-dir",
        tmp.resolve("gpt2").toString(), "--world-size", "2", "--set", "format=text", "--set", "microBatch=16",
        "--set", "recompute=false", "--set", "threadsPerRank=1");
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("the estimated memory does not fit: 2 rank(s) x ")
        && r.err().contains("Largest parts per rank: activations per micro-batch (B=16, recompute off)")
        && r.err().contains("set recompute: true"), r.err());
  }

  @Test
  void helpShowsRunnableExamples() {
    CliRun help = run("train", "--help");
    assertEquals(0, help.status());
    assertTrue(help.out().contains("ringtrain train --config conf/tiny.yaml --input data/moby-dick.txt"), help.out());
  }

  private static void expectConfigError(String message, Supplier<CliRun> command) {
    CliRun r = command.get();
    assertEquals(2, r.status(), "exit status for a config error; stderr: " + r.err());
    assertTrue(r.err().contains(message), "expected '" + message + "' in: " + r.err());
  }
}
