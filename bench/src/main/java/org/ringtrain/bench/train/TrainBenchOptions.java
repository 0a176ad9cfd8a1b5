// The training benchmark's command-line options, parsed and validated once.
// A flat list of --flag value pairs, like the other bench commands.
package org.ringtrain.bench.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What one run of the training benchmark measures.
 *
 * @param warmup     steps run first and left out of the numbers (default 2)
 * @param timed      steps measured per round (default 4); one more step follows them and is left out
 *                   too, because the last step of a run also validates, checks replicas and writes the
 *                   final checkpoint
 * @param rounds     how often every scenario runs; rounds alternate their order (a,a1,z,b then b,z,a1,a)
 *                   so that a drift in the machine's load hits all alike (default 2)
 * @param microBatch sequences per rank per step in scenario (a); (b) uses twice as many (default 8)
 * @param bucketMb   gradient bucket size of the overlapped all-reduce, MiB (default 4, the trainer's)
 * @param scenarios  which scenarios run, in order: a, a1, z and b (default all four)
 * @param data       a text file whose bytes are the tokens, or {@code synthetic} for seeded random bytes
 * @param workDir    where checkpoints and metrics logs go (a fresh subdirectory per run)
 * @param command    the command line, echoed in the report
 */
record TrainBenchOptions(int warmup, int timed, int rounds, int microBatch, int bucketMb, List<String> scenarios,
    String data, Path workDir, String command) {

  static final String USAGE = String.join("\n",
      "usage: bench/train.sh [--quick] [options]",
      "Data-parallel GPT training (small config: vocab 256, ctx 256, d 384, 6 layers, 6 heads), one run:",
      "  (a)  worldSize 2, 1 thread per rank, micro-batch B   (local[2]; OpenBLAS threads as the trainer leaves them)",
      "  (a1) the same with OpenBLAS pinned to 1 thread per rank by this benchmark (process-wide, local mode)",
      "  (z)  (a) with optimizerSharding: AdamW on each rank's half, parameters all-gathered",
      "  (b)  worldSize 1, 2 threads, micro-batch 2B          (local[1]-equivalent, same global batch)",
      "  --quick               1 round of 2 warm-up + 2 timed steps (~2-3 minutes), for development",
      "  --warmup 2            steps left out of the numbers at the start of each run",
      "  --steps 4             timed steps per scenario and round (one more untimed step ends each run)",
      "  --rounds 2            run every scenario this often, alternating their order",
      "  --scenarios a,a1,z,b  which scenarios run",
      "  --micro-batch 8       B: sequences per rank per step in (a)",
      "  --bucket-mb 4         gradient bucket size (MiB)",
      "  --data data/moby-dick.txt   text whose bytes are the tokens, or 'synthetic'",
      "  --work-dir bench/target/train-bench   checkpoints and metrics logs",
      "examples:",
      "  bench/train.sh --quick",
      "  bench/train.sh",
      "  bench/train.sh --steps 10 --rounds 3 --scenarios a1,b");

  TrainBenchOptions {
    require(warmup >= 1, "--warmup must be >= 1 (the first step pays ND4J's and the ring's start-up), but found "
        + warmup);
    require(timed >= 1, "--steps must be >= 1, but found " + timed);
    require(rounds >= 1, "--rounds must be >= 1, but found " + rounds);
    require(microBatch >= 1, "--micro-batch must be >= 1, but found " + microBatch);
    require(bucketMb >= 1 && bucketMb <= 1024, "--bucket-mb must be in [1, 1024], but found " + bucketMb);
    require(!scenarios.isEmpty() && scenarios.stream().allMatch(List.of("a", "a1", "z", "b")::contains)
        && scenarios.contains("b") && scenarios.stream().distinct().count() == scenarios.size(),
        "--scenarios must list distinct names out of a, a1, z, b and include b (the reference), but found "
        + scenarios);
  }

  /** Steps each scenario runs: warm-up, timed, and the final (untimed) one. */
  long totalSteps() {
    return warmup + timed + 1L;
  }

  /** Options from {@code args}; throws IllegalArgumentException with the usage on a bad flag. */
  static TrainBenchOptions parse(String[] args, String command) {
    int warmup = 2;
    int timed = 4;
    int rounds = 2;
    int microBatch = 8;
    int bucketMb = 4;
    List<String> scenarios = List.of("a", "a1", "z", "b");
    String data = "data/moby-dick.txt";
    Path workDir = Path.of("bench/target/train-bench");
    boolean quick = false;
    Integer warmupFlag = null;
    Integer stepsFlag = null;
    Integer roundsFlag = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if ("--quick".equals(flag)) {
        quick = true;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("unknown flag or missing value: " + flag + "\n" + USAGE);
      }
      String value = args[++i];
      switch (flag) {
        case "--warmup" -> warmupFlag = number(flag, value);
        case "--steps" -> stepsFlag = number(flag, value);
        case "--rounds" -> roundsFlag = number(flag, value);
        case "--micro-batch" -> microBatch = number(flag, value);
        case "--bucket-mb" -> bucketMb = number(flag, value);
        case "--scenarios" -> scenarios = List.of(value.toLowerCase(Locale.ROOT).split(","));
        case "--data" -> data = value;
        case "--work-dir" -> workDir = Path.of(value);
        default -> throw new IllegalArgumentException("unknown flag: " + flag + "\n" + USAGE);
      }
    }
    if (quick) {
      timed = 2;
      rounds = 1;
    }
    warmup = warmupFlag != null ? warmupFlag : warmup;
    timed = stepsFlag != null ? stepsFlag : timed;
    rounds = roundsFlag != null ? roundsFlag : rounds;
    return new TrainBenchOptions(warmup, timed, rounds, microBatch, bucketMb, scenarios, data, workDir, command);
  }

  private static int number(String flag, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " needs a whole number, but found '" + value + "'\n" + USAGE, e);
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message + "\n" + USAGE);
    }
  }
}
