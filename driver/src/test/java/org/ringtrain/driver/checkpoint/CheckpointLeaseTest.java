/*
 * CheckpointLeaseTest: the one-owner lease of a checkpoint directory on the local file system
 * through Hadoop's API: a second run is refused naming the first, a stale lease is taken over with
 * a WARN, the heartbeat keeps a lease fresh, and close releases it. It does not start Spark.
 */
package org.ringtrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;

@Timeout(30)
class CheckpointLeaseTest {

  @TempDir
  Path root;

  private final HadoopSettings hadoop = HadoopSettings.defaults();

  private String dir() {
    return root.toUri().toString();
  }

  private CheckpointLease.Holder holder() throws IOException {
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(root.resolve(CheckpointFormat.LEASE_FILE).toUri());
    FileSystem fs = file.getFileSystem(new Configuration());
    return CheckpointLease.read(fs, file).orElseThrow();
  }

  @Test
  void aSecondRunOnALeasedDirectoryFailsNamingTheFirst() throws Exception {
    try (CheckpointLease first = CheckpointLease.acquire(hadoop, dir(), "run-first", Duration.ofMinutes(2))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> CheckpointLease.acquire(hadoop, dir(), "run-second", Duration.ofMinutes(2)));
      assertTrue(e.getMessage().contains("is in use by run run-first"), e.getMessage());
      assertTrue(e.getMessage().contains("--checkpoint-dir"), e.getMessage());
      IllegalArgumentException check = assertThrows(IllegalArgumentException.class,
          () -> CheckpointLease.checkFree(hadoop, dir(), Duration.ofMinutes(2)));
      assertTrue(check.getMessage().contains("run-first"), check.getMessage());
      assertEquals("run-first", holder().runId());
    }
  }

  @Test
  void closeReleasesTheLeaseForTheNextRun() throws Exception {
    CheckpointLease.acquire(hadoop, dir(), "run-first", Duration.ofMinutes(2)).close();
    assertFalse(Files.exists(root.resolve(CheckpointFormat.LEASE_FILE)));
    CheckpointLease.checkFree(hadoop, dir(), Duration.ofMinutes(2));
    try (CheckpointLease next = CheckpointLease.acquire(hadoop, dir(), "run-next", Duration.ofMinutes(2))) {
      assertEquals("run-next", holder().runId());
    }
  }

  @Test
  void aStaleLeaseIsTakenOverWithAWarning() throws Exception {
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(root.resolve(CheckpointFormat.LEASE_FILE).toUri());
    FileSystem fs = file.getFileSystem(new Configuration());
    Files.createDirectories(root);
    CheckpointLease.write(fs, file, "run-crashed", false);
    Thread.sleep(1_200);
    try (LogCapture log = LogCapture.warningsOf(CheckpointLease.class);
         CheckpointLease lease = CheckpointLease.acquire(hadoop, dir(), "run-new", Duration.ofSeconds(1))) {
      assertEquals("run-new", holder().runId());
      assertEquals(1, log.warnings().size(), "warnings: " + log.warnings());
      assertTrue(log.warnings().get(0).contains("taking over the stale lease")
          && log.warnings().get(0).contains("run-crashed"), log.warnings().get(0));
    }
  }

  @Test
  void theHeartbeatKeepsALeaseFromGoingStale() throws Exception {
    try (CheckpointLease lease = CheckpointLease.acquire(hadoop, dir(), "run-alive", Duration.ofSeconds(1))) {
      long first = holder().heartbeatMillis();
      Thread.sleep(2_000);
      assertTrue(holder().heartbeatMillis() > first, "the heartbeat was not renewed");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> CheckpointLease.acquire(hadoop, dir(), "run-other", Duration.ofSeconds(1)));
      assertTrue(e.getMessage().contains("run-alive"), e.getMessage());
    }
  }

  @Test
  void theSameRunTakesBackItsOwnLease() throws Exception {
    try (CheckpointLease first = CheckpointLease.acquire(hadoop, dir(), "run-same", Duration.ofMinutes(2));
         CheckpointLease again = CheckpointLease.acquire(hadoop, dir(), "run-same", Duration.ofMinutes(2))) {
      assertEquals("run-same", again.runId());
    }
  }
}
