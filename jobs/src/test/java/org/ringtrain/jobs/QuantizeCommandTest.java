// `ringtrain quantize` and the --weights flag of generate/evaluate: usage errors
// (exit 2) that say what was expected, before any Spark starts.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QuantizeCommandTest {
  @TempDir
  Path tmp;

  @Test
  void quantizeWithoutACheckpointSaysSo() {
    CliRun r = CliRun.run("quantize", "--checkpoint-dir", tmp.resolve("run").toString(), "--output",
        tmp.resolve("int8.safetensors").toString());
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("no valid checkpoint in " + tmp.resolve("run")), r.err());
  }

  @Test
  void quantizeNeedsAnOutput() {
    CliRun r = CliRun.run("quantize", "--checkpoint-dir", tmp.resolve("run").toString());
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("Missing required option: '--output=<output>'"), r.err());
  }

  @Test
  void generateTakesExactlyOneOfCheckpointDirAndWeights() {
    CliRun neither = CliRun.run("generate", "--tokens", "5");
    assertEquals(2, neither.status(), neither.err());
    assertTrue(neither.err().contains("give exactly one of --checkpoint-dir DIR (a run's checkpoints) and --weights FILE"
        + " (a GPT-2 safetensors file or an int8 model from `ringtrain quantize`), but found neither"), neither.err());
    CliRun both = CliRun.run("evaluate", "--checkpoint-dir", tmp.toString(), "--weights", "x", "--input", "y");
    assertEquals(2, both.status(), both.err());
    assertTrue(both.err().contains("but found both"), both.err());
  }

  @Test
  void weightsThatAreNotAFileAreAUsageError() {
    CliRun r = CliRun.run("generate", "--weights", tmp.resolve("missing.safetensors").toString());
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("is not a file; give a GPT-2 safetensors file (Hugging Face's model.safetensors) or the"
        + " file written by `ringtrain quantize --output FILE`"), r.err());
  }
}
