// What the benchmark ran on, for the report: CPUs, CPU model, memory, heap.
// Linux /proc only; elsewhere it says "unknown" rather than guessing.
package org.ringtrain.bench.ring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Machine facts read from /proc. */
final class Machine {
  private Machine() {
  }

  /** e.g. "2 CPUs (nproc), AMD EPYC, 23.4 GiB RAM". */
  static String describe() {
    return Runtime.getRuntime().availableProcessors() + " CPUs (nproc), " + cpuModel() + ", " + memory() + " RAM";
  }

  /** The JVM's heap limit, e.g. "-Xmx 6.0 GiB". */
  static String maxHeap() {
    return String.format(Locale.ROOT, "max heap %.1f GiB", Runtime.getRuntime().maxMemory() / (double) (1L << 30));
  }

  private static String cpuModel() {
    for (String line : lines("/proc/cpuinfo")) {
      if (line.startsWith("model name")) {
        return line.substring(line.indexOf(':') + 1).trim();
      }
    }
    return "unknown CPU model";
  }

  private static String memory() {
    for (String line : lines("/proc/meminfo")) {
      if (line.startsWith("MemTotal:")) {
        long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
        return String.format(Locale.ROOT, "%.1f GiB", kib / (double) (1L << 20));
      }
    }
    return "unknown";
  }

  private static List<String> lines(String path) {
    try {
      return Files.readAllLines(Path.of(path));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }
}
