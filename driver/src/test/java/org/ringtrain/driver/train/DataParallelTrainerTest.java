/*
 * DataParallelTrainerTest: the checks DataParallelTrainer makes before any Spark work that need no
 * SparkContext: a checkpoint directory leased by another run is refused, naming that run. Training
 * itself is tested through GptTrainerTest with a local SparkContext.
 */
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.checkpoint.CheckpointLease;
import org.ringtrain.driver.config.FlatSettings;
import org.ringtrain.driver.fs.HadoopSettings;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DataParallelTrainerTest {

  @TempDir
  Path dir;

  @Test
  void aCheckpointDirectoryLeasedByAnotherRunIsRefusedBeforeSparkStarts() throws Exception {
    Map<String, Object> flat = new LinkedHashMap<>(LoopConfig.defaults());
    flat.put("checkpointDir", dir.toString());
    flat.put("resume", true); // even a resume may not share a directory with a running fit
    LoopConfig config = FlatSettings.read(LoopConfig.class, flat, "train config");
    HadoopSettings hadoop = HadoopSettings.defaults();
    try (CheckpointLease running = CheckpointLease.acquire(hadoop, dir.toString(), "run-running",
        Duration.ofMinutes(2))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> DataParallelTrainer.checkCheckpointDir(config, hadoop));
      assertTrue(e.getMessage().contains("in use by run run-running"), e.getMessage());
    }
    DataParallelTrainer.checkCheckpointDir(config, hadoop);
  }
}
