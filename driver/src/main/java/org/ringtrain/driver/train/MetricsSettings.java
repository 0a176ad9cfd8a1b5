/*
 * MetricsSettings: where the training loop's metrics go (JSON lines, TensorBoard) and the device
 * peak its MFU figure is taken against; one validated record of the loop's config.
 */
package org.ringtrain.driver.train;

import static org.ringtrain.driver.config.Checks.orEmpty;
import static org.ringtrain.driver.config.Checks.requireFinite;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * @param metricsLog        JSON-lines metrics file; empty = {@code <checkpointDir>/metrics.jsonl} (default)
 * @param tensorboardDir    TensorBoard log directory; empty = {@code <checkpointDir>/tensorboard} (default)
 * @param peakGflopsPerRank peak GFLOP/s of one rank's device, for the MFU metric; 0 (default) = rank 0
 *                          measures its sgemm GFLOP/s when training starts
 */
public record MetricsSettings(String metricsLog, String tensorboardDir, double peakGflopsPerRank)
    implements Serializable {

  /** Every default, keyed by setting. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("metricsLog", "");
    d.put("tensorboardDir", "");
    d.put("peakGflopsPerRank", 0.0);
    return d;
  }

  /** Validates every field. */
  public MetricsSettings {
    metricsLog = orEmpty(metricsLog);
    tensorboardDir = orEmpty(tensorboardDir);
    requireFinite(peakGflopsPerRank, 0, "peakGflopsPerRank",
        "use 0 (rank 0 measures its sgemm peak) or the peak of one rank's device");
  }
}
