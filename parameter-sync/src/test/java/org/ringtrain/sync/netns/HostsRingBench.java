// The benchmark behind bench/ring-hosts.sh: the ring between K hosts (network namespaces, one
// rank JVM each) whose links are limited to a rate by tbf, reported as bus bandwidth against the
// link rate. A ring all-reduce sends and receives 2(N-1)/N of the data per rank, so
// busbw = 2(N-1)/N * bytes / time can at best equal the link rate (less the ~4% of Ethernet, IP
// and TCP headers at MTU 1500): the ratio is how much of the link the ring uses. An unlimited row
// ("none") shows what this machine's CPUs allow, to tell a link bound from a CPU bound. It is a
// command, not a test, and lives beside the fixture it drives (test sources of parameter-sync).
package org.ringtrain.sync.netns;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** {@code HostsRingBench [--hosts 2,4] [--link-rate 1gbit,5gbit,10gbit,none] [--mib 64] [--iters 5] [--codec fp32]}. */
public final class HostsRingBench {
  private static final String USAGE = String.join("\n",
      "usage: bench/ring-hosts.sh [--hosts K[,K...]] [--link-rate R[,R...]] [--mib M] [--iters I] [--codec fp32|bf16]",
      "  --hosts      hosts (network namespaces), one rank each; default 2,4",
      "  --link-rate  tbf rate of every host link, both directions (kbit/mbit/gbit, or none = unlimited);",
      "               default 1gbit,5gbit,10gbit,none",
      "  --mib        all-reduce size in MiB of float32; default 64",
      "  --iters      timed all-reduces per row after one warm-up; the median is reported; default 5",
      "  --codec      wire codec of the ring; default fp32",
      "examples:",
      "  bench/ring-hosts.sh --hosts 2 --link-rate 1gbit --iters 3",
      "  bench/ring-hosts.sh --hosts 2,4 --link-rate 1gbit,5gbit,10gbit,none");

  private HostsRingBench() {
  }

  /** Runs every (hosts, rate) row and prints the table; exit status 2 on bad arguments. */
  public static void main(String[] args) throws Exception {
    List<Integer> hostCounts = List.of(2, 4);
    List<String> rates = List.of("1gbit", "5gbit", "10gbit", "none");
    int mib = 64;
    int iters = 5;
    String codec = "fp32";
    try {
      for (int i = 0; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--hosts" -> hostCounts = Arrays.stream(value.split(",")).map(Integer::valueOf).toList();
          case "--link-rate" -> rates = List.of(value.split(","));
          case "--mib" -> mib = Integer.parseInt(value);
          case "--iters" -> iters = Integer.parseInt(value);
          case "--codec" -> codec = value.toLowerCase(Locale.ROOT);
          case "--help", "-h" -> {
            System.out.println(USAGE);
            return;
          }
          default -> throw new IllegalArgumentException("unknown flag '" + args[i] + "'");
        }
        i++;
      }
      if (hostCounts.stream().anyMatch(k -> k < 2 || k > 16) || mib < 1 || mib > 256 || iters < 1
          || !List.of("fp32", "bf16").contains(codec)) {
        throw new IllegalArgumentException("expected hosts in [2, 16], --mib in [1, 256], --iters >= 1, --codec fp32 or "
            + "bf16, but found hosts " + hostCounts + ", mib " + mib + ", iters " + iters + ", codec " + codec);
      }
    } catch (RuntimeException e) {
      System.err.println("ring-hosts.sh: " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
    }
    String unavailable = NetnsHosts.unavailableReason();
    if (unavailable != null) {
      System.err.println("ring-hosts.sh: cannot make hosts here: " + unavailable);
      System.exit(2);
    }
    int bytes = mib << 20;
    System.out.printf("ring between hosts (network namespaces, one rank JVM each), %d MiB %s all-reduce, "
        + "median of %d%n", mib, codec, iters);
    System.out.printf("%-6s %-10s %10s %14s %14s %10s%n", "hosts", "link", "time ms", "busbw MB/s", "link MB/s",
        "busbw/link");
    int most = hostCounts.stream().mapToInt(Integer::intValue).max().orElseThrow();
    try (NetnsHosts hosts = NetnsHosts.create(most, NetnsHosts.DEFAULT_RATE)) {
      for (int k : hostCounts) {
        for (String rate : rates) {
          for (int h = 0; h < most; h++) {
            hosts.setRate(h, rate);
          }
          double seconds = medianSeconds(hosts, k, bytes, iters, codec);
          double busbw = 2.0 * (k - 1) / k * bytes / seconds / 1e6;
          double link = rate.equals("none") ? Double.NaN : NetnsHosts.bitsPerSecond(rate) / 8 / 1e6;
          System.out.printf("%-6d %-10s %10.1f %14.1f %14s %10s%n", k, rate, seconds * 1e3, busbw,
              Double.isNaN(link) ? "-" : String.format("%.1f", link),
              Double.isNaN(link) ? "-" : String.format("%.3f", busbw / link));
        }
      }
    }
  }

  /** Per iteration the slowest rank's time (the all-reduce ends when the last rank has it), then the median. */
  private static double medianSeconds(NetnsHosts hosts, int k, int bytes, int iters, String codec) throws Exception {
    int[] placement = new int[k];
    Arrays.setAll(placement, r -> r);
    String memory = "-Xmx64m -XX:MaxDirectMemorySize=" + (bytes / (1 << 20) * 2 + 64) + "m";
    double[] slowest = new double[iters];
    try (RankProcesses ring = RankProcesses.start(hosts, placement, Path.of("bench/target/tmp"), memory,
        "mode=bench", "bytes=" + bytes, "iters=" + iters, "codec=" + codec, "ioTimeoutSeconds=120")) {
      int[] status = ring.awaitExit(Duration.ofMinutes(10));
      if (Arrays.stream(status).anyMatch(s -> s != 0)) {
        throw new IllegalStateException("a rank failed: " + ring.describe());
      }
      for (int r = 0; r < k; r++) {
        List<Double> times = new ArrayList<>();
        for (String line : ring.lines(r)) {
          if (line.startsWith("bench ")) {
            times.add(Double.parseDouble(line.substring(line.indexOf("seconds=") + 8)));
          }
        }
        for (int i = 0; i < iters; i++) {
          slowest[i] = Math.max(slowest[i], times.get(i));
        }
      }
    }
    Arrays.sort(slowest);
    return slowest[iters / 2];
  }
}
