// The memory benchmark (bench/memory.sh): per-rank peak off-heap memory and resident size of the
// GPT-2 124M preset at ctx 1024 in Spark local mode, measured for each world size, recomputation
// choice and micro-batch in a JVM of its own (MemoryRun), beside MemoryEstimate's figure and the
// tokens/s of the run. Prints markdown for docs/memory.md. It measures; it does not tune anything.
package org.ringtrain.bench.memory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ringtrain.bench.train.LoadAverage;
import org.ringtrain.driver.gpt.MemoryEstimate;
import org.ringtrain.ops.gpt.ModelConfig;

/** Entry point of {@code bench/memory.sh}. */
public final class MemoryBench {

  static final String USAGE = String.join("\n",
      "bench/memory.sh [--quick] [--ranks 1,2] [--micro-batches 1,4] [--steps 2] [--sharding] [--recompute off,on]",
      "  --quick           ranks 1,2, micro-batch 1, 2 steps (~20-30 minutes on 2 shared cores)",
      "  --ranks LIST      world sizes (default 1,2)",
      "  --micro-batches L micro-batches per rank (default 1,4)",
      "  --steps N         optimizer steps per run (default 2; the first allocates, the last is timed)",
      "  --sharding        also run every configuration with N > 1 with optimizerSharding: true",
      "  --recompute LIST  recompute settings to run (default off,on)",
      "Each configuration runs once per recompute setting, each run in a JVM of its own.");

  private static final ModelConfig GPT2 = new ModelConfig(MemoryRun.VOCAB, MemoryRun.CONTEXT, 768, 12, 12, 0);

  private MemoryBench() {
  }

  public static void main(String[] args) throws Exception {
    List<Integer> ranks = List.of(1, 2);
    List<Integer> batches = List.of(1, 4);
    int steps = 2;
    boolean withSharding = false;
    List<Boolean> recomputes = List.of(false, true);
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> batches = List.of(1);
        case "--ranks" -> ranks = ints(args[++i]);
        case "--micro-batches" -> batches = ints(args[++i]);
        case "--steps" -> steps = Integer.parseInt(args[++i]);
        case "--sharding" -> withSharding = true;
        case "--recompute" -> recomputes = onOff(args[++i]);
        case "--help", "-h" -> {
          System.out.println(USAGE);
          return;
        }
        default -> {
          System.err.println("unknown argument " + args[i] + "\n" + USAGE);
          System.exit(2);
        }
      }
    }
    String command = System.getProperty("memorybench.command", "MemoryBench");
    String loadStart = LoadAverage.now();
    System.out.println("ringtrain memory benchmark: " + command + "; load average at start " + loadStart);
    List<String> rows = new ArrayList<>();
    for (int n : ranks) {
      for (int b : batches) {
        for (boolean sharding : withSharding && n > 1 ? new boolean[] {false, true} : new boolean[] {false}) {
          for (boolean recompute : recomputes) {
            System.out.println("running N=" + n + " B=" + b + " recompute=" + recompute + " sharding=" + sharding
                + " (load " + LoadAverage.now() + ")");
            Map<String, String> r = runChild(n, b, recompute, sharding, steps);
            rows.add(row(n, b, recompute, sharding, r));
            System.out.println("  " + rows.get(rows.size() - 1));
          }
        }
      }
    }
    System.out.println();
    System.out.println("Command: `" + command + "` (main class `" + MemoryBench.class.getName() + "`).");
    System.out.println();
    System.out.println("- Date: " + LocalDate.now());
    System.out.println("- Machine: " + LoadAverage.machine() + "; Java " + System.getProperty("java.version"));
    System.out.println("- Load average (1/5/15 min): " + loadStart + " at start, " + LoadAverage.now() + " at end");
    System.out.println("- Model: GPT-2 124M (V 50257, T 1024, C 768, L 12, NH 12), float32, AdamW; Spark local mode,"
        + " one JVM per row; " + steps + " steps per row");
    System.out.println();
    System.out.println("| N | B | recompute | sharding | estimate per rank (off-heap) | measured per rank:"
        + " off-heap peak | measured per rank: RSS peak | process RSS peak | tokens/s (all ranks) | fwd+bwd+comm s |");
    System.out.println("|--:|--:|---|---|--:|--:|--:|--:|--:|--:|");
    rows.forEach(System.out::println);
  }

  private static String row(int n, int b, boolean recompute, boolean sharding, Map<String, String> r) {
    long offHeap = (num(r, "offHeapPeak") - num(r, "offHeapBase")) / n;
    long resident = (num(r, "residentPeak") - num(r, "residentBase")) / n;
    long estimate = MemoryEstimate.of(GPT2, b, n, recompute, sharding, 0).offHeapBytes();
    return String.format(Locale.ROOT, "| %d | %d | %s | %s | %s | %s | %s | %s | %s | %.1f |", n, b,
        recompute ? "on" : "off", sharding ? "on" : "off", MemoryEstimate.gib(estimate), MemoryEstimate.gib(offHeap),
        MemoryEstimate.gib(resident), MemoryEstimate.gib(num(r, "residentPeak")), r.get("tokensPerSecond"),
        Double.parseDouble(r.get("stepMs")) / 1000);
  }

  /** "off,on" (any order, either alone) as booleans; anything else exits with the usage. */
  private static List<Boolean> onOff(String list) {
    List<Boolean> out = new ArrayList<>();
    for (String v : list.split(",")) {
      switch (v.trim()) {
        case "on" -> out.add(true);
        case "off" -> out.add(false);
        default -> {
          System.err.println("--recompute takes off, on or off,on, but found " + list + "\n" + USAGE);
          System.exit(2);
        }
      }
    }
    return out;
  }

  /** Runs one MemoryRun in a new JVM with this JVM's flags and classpath; returns its result pairs. */
  private static Map<String, String> runChild(int n, int b, boolean recompute, boolean sharding, int steps)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(MemoryRun.class.getName());
    cmd.add(String.valueOf(n));
    cmd.add(String.valueOf(b));
    cmd.add(String.valueOf(recompute));
    cmd.add(String.valueOf(steps));
    cmd.add(Path.of(System.getProperty("java.io.tmpdir"), "memory-bench", "n" + n + "-b" + b + "-r" + recompute
        + "-s" + sharding).toString());
    cmd.add(String.valueOf(sharding));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Map<String, String> result = new HashMap<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith("result ")) {
          for (String kv : line.substring(7).split(" ")) {
            result.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
          }
        } else {
          System.out.println("    " + line);
        }
      }
    }
    int status = p.waitFor();
    if (status != 0 || result.isEmpty()) {
      throw new IllegalStateException("the run N=" + n + " B=" + b + " recompute=" + recompute + " exited with "
          + status + " and " + (result.isEmpty() ? "no" : "a") + " result line; see its output above");
    }
    return result;
  }

  private static long num(Map<String, String> r, String key) {
    return Long.parseLong(r.get(key));
  }

  private static List<Integer> ints(String list) {
    List<Integer> out = new ArrayList<>();
    for (String s : list.split(",")) {
      out.add(Integer.parseInt(s.trim()));
    }
    return out;
  }
}
