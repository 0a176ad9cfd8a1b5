// DistillCommandTest: the distill command's settings (config keys and flags, flags winning) and
// its errors before Spark starts: a bad alpha or temperature, a missing teacher. The teacher's
// tokenizer check itself is GptDistillerTest's; the distillation runs there too.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.gpt.DistillSettings;
import picocli.CommandLine;

// The missing-teacher case opens Hadoop's local FileSystem: seconds idle, a minute on a loaded machine.
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DistillCommandTest {
  private static final String CORPUS = "../data/moby-dick.txt";

  @TempDir
  Path tmp;

  @Test
  void distillKeysComeFromTheConfigFileAndFlagsOverrideThem() throws Exception {
    Path conf = Files.writeString(tmp.resolve("student.yaml"), "dModel: 64\nalpha: 0.2\ntemperature: 3\n");
    DistillCommand command = new DistillCommand();
    new CommandLine(command).parseArgs("--config", conf.toString(), "--teacher", "/runs/t", "--alpha", "0.9",
        "--input", CORPUS, "--checkpoint-dir", tmp.resolve("s").toString());
    DistillSettings settings = DistillSettings.fromLayers(ConfigFiles.load(conf), command.layer());
    assertEquals(new DistillSettings("/runs/t", 0.9, 3.0), settings);
  }

  @Test
  void badSettingsAndAMissingTeacherAreReportedBeforeSparkStarts() {
    String ckpt = tmp.resolve("ckpt").toString();
    String teacher = tmp.resolve("no-teacher").toString();
    expectConfigError("alpha = 2.0; use a weight in [0, 1]", CliRun.run("distill", "--config", "../conf/student.yaml",
        "--teacher", teacher, "--input", CORPUS, "--checkpoint-dir", ckpt, "--alpha", "2"));
    expectConfigError("temperature = -1.0; use a finite temperature > 0", CliRun.run("distill", "--config",
        "../conf/student.yaml", "--teacher", teacher, "--input", CORPUS, "--checkpoint-dir", ckpt, "--temperature", "-1"));
    expectConfigError("teacher = null; give the teacher's checkpoint directory", CliRun.run("distill", "--config",
        "../conf/student.yaml", "--input", CORPUS, "--checkpoint-dir", ckpt));
    expectConfigError("holds no valid checkpoint; train the teacher first", CliRun.run("distill", "--config",
        "../conf/student.yaml", "--teacher", teacher, "--input", CORPUS, "--checkpoint-dir", ckpt));
  }

  private static void expectConfigError(String message, CliRun r) {
    assertEquals(2, r.status(), "exit status for a config error; stderr: " + r.err());
    assertTrue(r.err().contains(message), "expected '" + message + "' in: " + r.err());
  }
}
