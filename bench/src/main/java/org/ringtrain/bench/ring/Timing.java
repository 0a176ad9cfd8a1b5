// Medians of repeated timings and the machine's load average. A helper of the
// ring benchmark only; not a statistics library.
package org.ringtrain.bench.ring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Small timing helpers shared by the benchmark's measurements. */
final class Timing {
  private Timing() {
  }

  /** Median of {@code nanos} in milliseconds (the mean of the middle two for an even count). */
  static double medianMs(long[] nanos) {
    if (nanos.length == 0) {
      throw new IllegalArgumentException("a median needs at least one timing, but found none");
    }
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    double median = sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
    return median / 1e6;
  }

  /** Median of {@code values}. */
  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
  }

  /** The first three fields of /proc/loadavg ("1.02 0.87 0.55"), or "unknown". */
  static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /** Bytes per second in GB/s (1e9 bytes). */
  static double gbPerSecond(long bytes, double ms) {
    return bytes / (ms / 1e3) / 1e9;
  }
}
