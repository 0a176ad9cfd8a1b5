/*
 * CheckpointSettings: where and how often the training loop writes checkpoints, how many it keeps,
 * how long the directory's lease survives a silent driver, and whether it resumes; one validated
 * record of the loop's config.
 */
package org.ringtrain.driver.train;

import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * @param checkpointDir       checkpoint directory on any Hadoop FileSystem; required
 * @param checkpointEvery     steps between checkpoints; the last step always writes one (default 100)
 * @param keepCheckpoints     newest verified checkpoints kept, at least 2 so that a checkpoint
 *                            corrupted after its write still leaves one to resume from (default 3)
 * @param unsafeKeepOne       allow {@code keepCheckpoints=1}, accepting that one corrupt checkpoint
 *                            loses the run's progress (default false; {@code --unsafe-keep-one})
 * @param resume              continue from the newest valid checkpoint in checkpointDir (default false)
 * @param leaseTimeoutSeconds seconds without a heartbeat after which another run may take over the
 *                            directory's lease, &gt;= 10 (default 120)
 */
public record CheckpointSettings(String checkpointDir, long checkpointEvery, int keepCheckpoints,
    boolean unsafeKeepOne, boolean resume, long leaseTimeoutSeconds) implements Serializable {

  /** Every default, keyed by setting; {@code checkpointDir} has none. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("checkpointEvery", 100);
    d.put("keepCheckpoints", 3);
    d.put("unsafeKeepOne", false);
    d.put("resume", false);
    d.put("leaseTimeoutSeconds", 120);
    return d;
  }

  /** Validates every field. */
  public CheckpointSettings {
    require(checkpointDir != null && !checkpointDir.isBlank(), "checkpointDir", checkpointDir,
        "give a directory on a shared filesystem, e.g. --checkpoint-dir hdfs:///ringtrain/run1");
    require(checkpointEvery >= 1, "checkpointEvery", checkpointEvery, "use a positive interval");
    require(keepCheckpoints >= 2 || (keepCheckpoints == 1 && unsafeKeepOne), "keepCheckpoints", keepCheckpoints,
        "keep at least 2, so that a corrupt newest checkpoint leaves an older one to resume from; "
            + "keepCheckpoints=1 needs unsafeKeepOne=true (--unsafe-keep-one)");
    require(leaseTimeoutSeconds >= 10, "leaseTimeoutSeconds", leaseTimeoutSeconds,
        "use at least 10 s, well above the heartbeat interval (a quarter of it) and any GC pause");
  }

  /** {@code checkpointDir} without trailing slashes, for paths under it. */
  public String dirWithoutSlash() {
    return checkpointDir.replaceAll("/+$", "");
  }

  /** {@code leaseTimeoutSeconds} as a duration. */
  public Duration leaseTimeout() {
    return Duration.ofSeconds(leaseTimeoutSeconds);
  }
}
