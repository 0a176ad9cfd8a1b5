// The ring benchmark's command-line options, parsed and validated once.
// Not a general CLI library: a flat list of --flag value pairs.
package org.ringtrain.bench.ring;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.ringtrain.sync.LinkTransport;

/**
 * What one run of the ring benchmark measures.
 *
 * @param worldSizes        ranks per ring (default 2,4)
 * @param transports        ring link transports, each measured with every row (default AUTO,TCP:
 *                          Unix domain sockets between these same-host ranks, then TCP)
 * @param sizesMib          float32 vector sizes in MiB (default 1,16,64,256)
 * @param bf16SizesMib      sizes that also get a bf16-on-the-wire row (default 64,256)
 * @param segmentBytes      the ring's pipeline segment for the main table (default 1 MiB, kept
 *                          from the first runs so that tables compare; the ring's own default
 *                          is {@link org.ringtrain.sync.RingConfig#DEFAULT_SEGMENT_BYTES})
 * @param sweepSegmentBytes segment sizes compared at {@code sweepMib} (default 1m,2m,4m)
 * @param sweepMib          vector size of the segment sweep (default 64)
 * @param warmup            untimed ring iterations per row (default 3)
 * @param iters             timed ring iterations per row; the median is reported (default 7)
 * @param sparkWarmup       untimed Spark rounds per SparkContext, before its first size (default 1)
 * @param sparkIters        timed Spark rounds per size (default 3)
 * @param sparkBudgetSeconds a size stops after fewer timed rounds (at least one) once they took
 *                          this long (default 40)
 * @param loopbackMib       bytes one single-stream measurement streams (default 1024 MiB)
 * @param loopbackReps      single-stream measurements per probe and kind (default 5)
 * @param protectionMib     sizes measured with every frame protection (none, integrity,
 *                          encryption) side by side (default 64; 16 with --quick; empty skips)
 * @param docs              markdown file whose ring section is replaced (default none)
 * @param command           the command line to record in the docs
 */
record BenchOptions(
    int[] worldSizes,
    LinkTransport[] transports,
    int[] sizesMib,
    int[] bf16SizesMib,
    int segmentBytes,
    int[] sweepSegmentBytes,
    int sweepMib,
    int warmup,
    int iters,
    int sparkWarmup,
    int sparkIters,
    int sparkBudgetSeconds,
    int loopbackMib,
    int loopbackReps,
    int[] protectionMib,
    Path docs,
    String command) {

  static final String USAGE = String.join("\n",
      "usage: bench/ring.sh [--quick] [options]",
      "  --quick                 N=2, 1/16/64 MiB, fewer iterations, no bf16 rows, no sweep (~1 min)",
      "  --world-sizes 2,4       ranks per ring (threads of this JVM)",
      "  --transports auto,tcp   ring link transports (auto: Unix domain sockets between these same-host ranks)",
      "  --sizes-mib 1,16,64,256 float32 vector sizes",
      "  --bf16-mib 64,256       sizes with an extra bf16-on-the-wire row ('none' for no rows)",
      "  --segment-bytes 1m      ring pipeline segment for the main table (k/m suffixes)",
      "  --sweep-segments 1m,2m,4m  segments compared at --sweep-mib ('none' to skip)",
      "  --sweep-mib 64          vector size of the segment sweep",
      "  --warmup 3 --iters 7    ring iterations per row (median of the timed ones)",
      "  --spark-warmup 1 --spark-iters 3   Spark rounds: untimed per context, timed per size (0 skips Spark)",
      "  --spark-budget-s 40     fewer timed Spark rounds (at least one) once a size took this long",
      "  --loopback-mib 1024 --loopback-reps 5   single-stream probes (loopback TCP and Unix socket)",
      "  --protection-mib 64     sizes timed with ringProtection none, integrity and encryption ('none' to skip)",
      "  --docs docs/benchmarks.md   replace the '## Ring all-reduce (parameter-sync)' section",
      "examples:",
      "  bench/ring.sh --quick",
      "  bench/ring.sh --world-sizes 2 --sizes-mib 64 --sweep-segments 1m,2m,4m",
      "  bench/ring.sh --quick --transports tcp",
      "  bench/ring.sh --quick --protection-mib 16,64 --spark-iters 0",
      "  bench/ring.sh --docs docs/benchmarks.md");

  BenchOptions {
    require(worldSizes.length > 0 && Arrays.stream(worldSizes).allMatch(n -> n >= 2 && n <= 16),
        "--world-sizes must list ranks in [2, 16], but found " + Arrays.toString(worldSizes));
    require(transports.length > 0 && Arrays.stream(transports).distinct().count() == transports.length,
        "--transports must list distinct transports (auto, tcp), but found " + Arrays.toString(transports));
    require(sizesMib.length > 0 && Arrays.stream(sizesMib).allMatch(s -> s >= 1 && s <= 1024),
        "--sizes-mib must list sizes in [1, 1024], but found " + Arrays.toString(sizesMib));
    require(Arrays.stream(bf16SizesMib).allMatch(s -> s >= 1 && s <= 1024),
        "--bf16-mib must list sizes in [1, 1024], but found " + Arrays.toString(bf16SizesMib));
    require(sweepMib >= 1 && sweepMib <= 1024, "--sweep-mib must be in [1, 1024], but found " + sweepMib);
    require(warmup >= 0 && iters >= 1, "--warmup must be >= 0 and --iters >= 1, but found "
        + warmup + " and " + iters);
    require(sparkWarmup >= 0 && sparkIters >= 0, "--spark-warmup and --spark-iters must be >= 0 "
        + "(--spark-iters 0 skips Spark), but found " + sparkWarmup + " and " + sparkIters);
    require(sparkBudgetSeconds >= 1, "--spark-budget-s must be >= 1, but found " + sparkBudgetSeconds);
    require(Arrays.stream(protectionMib).allMatch(s -> s >= 1 && s <= 1024),
        "--protection-mib must list sizes in [1, 1024], but found " + Arrays.toString(protectionMib));
    require(loopbackMib >= 16 && loopbackReps >= 1, "--loopback-mib must be >= 16 and --loopback-reps "
        + ">= 1, but found " + loopbackMib + " and " + loopbackReps);
  }

  /** Parses {@code args}; {@code --quick} sets smaller defaults that later flags still override. */
  static BenchOptions parse(String[] args, String command) {
    boolean quick = Arrays.asList(args).contains("--quick");
    int[] worldSizes = quick ? new int[] {2} : new int[] {2, 4};
    LinkTransport[] transports = {LinkTransport.AUTO, LinkTransport.TCP};
    int[] sizes = quick ? new int[] {1, 16, 64} : new int[] {1, 16, 64, 256};
    int[] bf16 = quick ? new int[0] : new int[] {64, 256};
    int segment = 1 << 20;
    int[] sweep = quick ? new int[0] : new int[] {1 << 20, 2 << 20, 4 << 20};
    int sweepMib = 64;
    int warmup = quick ? 1 : 3;
    int iters = quick ? 3 : 7;
    int sparkWarmup = 1;
    int sparkIters = quick ? 2 : 3;
    int sparkBudget = 40;
    int loopbackMib = quick ? 256 : 1024;
    int loopbackReps = quick ? 3 : 5;
    int[] protection = quick ? new int[] {16} : new int[] {64};
    Path docs = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--quick")) {
        continue;
      }
      if (flag.equals("--help") || flag.equals("-h")) {
        throw new IllegalArgumentException("help requested");
      }
      require(i + 1 < args.length, flag + " needs a value");
      String value = args[++i];
      switch (flag) {
        case "--world-sizes" -> worldSizes = ints(flag, value);
        case "--transports" -> transports = transports(flag, value);
        case "--sizes-mib" -> sizes = ints(flag, value);
        case "--bf16-mib" -> bf16 = value.equals("none") ? new int[0] : ints(flag, value);
        case "--segment-bytes" -> segment = bytes(flag, value);
        case "--sweep-segments" -> sweep = value.equals("none") ? new int[0]
            : Arrays.stream(value.split(",")).mapToInt(v -> bytes(flag, v)).toArray();
        case "--sweep-mib" -> sweepMib = integer(flag, value);
        case "--warmup" -> warmup = integer(flag, value);
        case "--iters" -> iters = integer(flag, value);
        case "--spark-warmup" -> sparkWarmup = integer(flag, value);
        case "--spark-iters" -> sparkIters = integer(flag, value);
        case "--spark-budget-s" -> sparkBudget = integer(flag, value);
        case "--loopback-mib" -> loopbackMib = integer(flag, value);
        case "--loopback-reps" -> loopbackReps = integer(flag, value);
        case "--protection-mib" -> protection = value.equals("none") ? new int[0] : ints(flag, value);
        case "--docs" -> docs = Path.of(value);
        default -> throw new IllegalArgumentException("unknown flag " + flag);
      }
    }
    return new BenchOptions(worldSizes, transports, sizes, bf16, segment, sweep, sweepMib, warmup, iters,
        sparkWarmup, sparkIters, sparkBudget, loopbackMib, loopbackReps, protection, docs, command);
  }

  /** Every vector size any ring row of this run uses, in MiB. */
  int maxSizeMib() {
    int max = sweepSegmentBytes.length > 0 ? sweepMib : 0;
    for (int s : sizesMib) {
      max = Math.max(max, s);
    }
    for (int s : bf16SizesMib) {
      max = Math.max(max, s);
    }
    for (int s : protectionMib) {
      max = Math.max(max, s);
    }
    return max;
  }

  /** One line for the report: the settings that shape the numbers. */
  String describe() {
    return "world sizes " + Arrays.toString(worldSizes) + ", transports " + Arrays.toString(transports)
        + ", sizes " + Arrays.toString(sizesMib)
        + " MiB, bf16 " + Arrays.toString(bf16SizesMib) + " MiB, segment " + mib(segmentBytes)
        + ", ring warm-up " + warmup + " + timed " + iters + ", Spark warm-up " + sparkWarmup
        + " + timed " + sparkIters + " (at most " + sparkBudgetSeconds + " s per size), loopback " + loopbackReps + " x " + loopbackMib + " MiB"
        + ", protection rows " + Arrays.toString(protectionMib) + " MiB";
  }

  static String mib(int bytes) {
    return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
  }

  private static LinkTransport[] transports(String flag, String value) {
    return Arrays.stream(value.split(",")).map(v -> {
      try {
        return LinkTransport.valueOf(v.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(flag + " expects auto or tcp, but found '" + v + "'");
      }
    }).toArray(LinkTransport[]::new);
  }

  private static int[] ints(String flag, String value) {
    return Arrays.stream(value.split(",")).mapToInt(v -> integer(flag, v)).toArray();
  }

  private static int integer(String flag, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " expects an integer, but found '" + value + "'");
    }
  }

  private static int bytes(String flag, String value) {
    String v = value.trim().toLowerCase();
    int scale = 1;
    if (v.endsWith("m")) {
      scale = 1 << 20;
      v = v.substring(0, v.length() - 1);
    } else if (v.endsWith("k")) {
      scale = 1 << 10;
      v = v.substring(0, v.length() - 1);
    }
    return Math.multiplyExact(integer(flag, v), scale);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
