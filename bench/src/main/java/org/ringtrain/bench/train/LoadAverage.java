// The machine's load average and a one-line description of the machine, for
// the report: the machines are shared, so numbers mean little without them.
// Linux /proc only; elsewhere it says "unknown" rather than guessing.
package org.ringtrain.bench.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Load average and machine facts read from /proc. */
public final class LoadAverage {
  private LoadAverage() {
  }

  /** The 1, 5 and 15-minute load averages, e.g. "1.92 2.40 3.01". */
  public static String now() {
    List<String> l = lines("/proc/loadavg");
    if (l.isEmpty()) {
      return "unknown";
    }
    String[] f = l.get(0).trim().split("\\s+");
    return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "unknown";
  }

  /** e.g. "2 CPUs (nproc), AMD EPYC 7B13, 23.5 GiB RAM". */
  public static String machine() {
    String model = "unknown CPU model";
    for (String line : lines("/proc/cpuinfo")) {
      if (line.startsWith("model name")) {
        model = line.substring(line.indexOf(':') + 1).trim();
        break;
      }
    }
    String memory = "unknown";
    for (String line : lines("/proc/meminfo")) {
      if (line.startsWith("MemTotal:")) {
        long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
        memory = String.format(Locale.ROOT, "%.1f GiB", kib / (double) (1L << 20));
        break;
      }
    }
    return Runtime.getRuntime().availableProcessors() + " CPUs (nproc), " + model + ", " + memory + " RAM";
  }

  private static List<String> lines(String path) {
    try {
      return Files.readAllLines(Path.of(path));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }
}
