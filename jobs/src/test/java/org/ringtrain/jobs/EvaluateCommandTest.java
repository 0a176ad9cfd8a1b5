// `ringtrain evaluate`: partition and batch counts below 1 are usage errors (exit 2) reported
// before any checkpoint is read or Spark starts.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EvaluateCommandTest {
  private static final String CORPUS = "../data/moby-dick.txt";

  @TempDir
  Path tmp;

  @Test
  void zeroPartitionsIsAUsageErrorBeforeSparkStarts() {
    System.setProperty("spark.master", "local[2]");
    try {
      CliRun r = CliRun.run("evaluate", "--checkpoint-dir", tmp.resolve("run").toString(), "--input", CORPUS,
          "--partitions", "0");
      assertEquals(2, r.status(), r.err());
      assertTrue(r.err().contains("--partitions must be at least 1, but found 0"), r.err());
    } finally {
      System.clearProperty("spark.master");
    }
  }

  @Test
  void aBatchBelowOneIsAUsageError() {
    CliRun r = CliRun.run("evaluate", "--checkpoint-dir", tmp.resolve("run").toString(), "--input", CORPUS,
        "--batch", "0");
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("--batch must be at least 1, but found 0"), r.err());
  }
}
