// `ringtrain generate`: a token count outside 1..1,000,000 is a usage error (exit 2) reported
// before any checkpoint is read; 2147483647 used to overflow the output buffer.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GenerateCommandTest {
  @TempDir
  Path tmp;

  @Test
  void aTokenCountBeyondTheMaximumIsAUsageError() {
    CliRun r = CliRun.run("generate", "--checkpoint-dir", tmp.resolve("run").toString(), "--tokens", "2147483647");
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("--tokens must be between 1 and 1000000, but found 2147483647"), r.err());
  }

  @Test
  void aTokenCountBelowOneIsAUsageError() {
    CliRun r = CliRun.run("generate", "--checkpoint-dir", tmp.resolve("run").toString(), "--tokens", "0");
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("--tokens must be between 1 and 1000000, but found 0"), r.err());
  }
}
