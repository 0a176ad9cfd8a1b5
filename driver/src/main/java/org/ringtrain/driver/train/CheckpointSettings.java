/*
 * CheckpointSettings: where and how often the training loop writes checkpoints, how many it keeps
 * and whether it resumes; one validated record of the loop's config.
 */
package org.ringtrain.driver.train;

import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * @param checkpointDir   checkpoint directory on any Hadoop FileSystem; required
 * @param checkpointEvery steps between checkpoints; the last step always writes one (default 100)
 * @param keepCheckpoints newest complete checkpoints kept (default 3)
 * @param resume          continue from the newest valid checkpoint in checkpointDir (default false)
 */
public record CheckpointSettings(String checkpointDir, long checkpointEvery, int keepCheckpoints, boolean resume)
    implements Serializable {

  /** Every default, keyed by setting; {@code checkpointDir} has none. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("checkpointEvery", 100);
    d.put("keepCheckpoints", 3);
    d.put("resume", false);
    return d;
  }

  /** Validates every field. */
  public CheckpointSettings {
    require(checkpointDir != null && !checkpointDir.isBlank(), "checkpointDir", checkpointDir,
        "give a directory on a shared filesystem, e.g. --checkpoint-dir hdfs:///ringtrain/run1");
    require(checkpointEvery >= 1, "checkpointEvery", checkpointEvery, "use a positive interval");
    require(keepCheckpoints >= 1, "keepCheckpoints", keepCheckpoints, "keep at least 1");
  }

  /** {@code checkpointDir} without trailing slashes, for paths under it. */
  public String dirWithoutSlash() {
    return checkpointDir.replaceAll("/+$", "");
  }
}
