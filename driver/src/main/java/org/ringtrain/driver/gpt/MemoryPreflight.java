/*
 * MemoryPreflight: before Spark starts, the memory a GPT training run's ranks will hold
 * (MemoryEstimate) against what a rank may use: the executor's memory plus its overhead on a
 * cluster, or this JVM's off-heap limits (JavaCPP's maxphysicalbytes, -XX:MaxDirectMemorySize,
 * physical memory, each less the Java heap) in
 * local mode, where every rank is a thread of this JVM. A configuration that does not fit is
 * refused with the largest parts and what to change. It measures nothing and starts nothing.
 */
package org.ringtrain.driver.gpt;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.network.util.JavaUtils;
import org.ringtrain.driver.tokenize.TokenizerKind;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.lora.LoraModel;
import org.ringtrain.ops.runtime.NativeMemory;

/** The memory check of a GPT training run; see {@link #check}. */
public final class MemoryPreflight {

  /**
   * Off-heap bytes of ND4J's and OpenBLAS's native code and caches in a JVM, counted once per JVM
   * on top of the ranks' estimates: 512 MiB (docs/memory.md).
   */
  public static final long NATIVE_BYTES = 512L << 20;

  /**
   * What one JVM (an executor, or this JVM in local mode) gives its ranks.
   *
   * @param bytes       bytes the JVM's ranks may hold off-heap in all, native code included
   * @param ranksPerJvm ranks that share those bytes
   * @param source      where the figure comes from, in the words of the setting to change
   * @param remedy      how to give a rank more memory
   */
  public record RankBudget(long bytes, int ranksPerJvm, String source, String remedy) {
  }

  private MemoryPreflight() {
  }

  /**
   * The estimate of {@code cfg}'s ranks. Training rows are estimated from the corpus size:
   * {@code corpusBytes} tokens for byte-tokenized text, a quarter of them for BPE text, half for
   * uint16 token shards. AdamW's state counts 8P, or 8P/N with {@code optimizerSharding}; a LoRA
   * run counts gradients and AdamW state for its adapters only.
   */
  public static MemoryEstimate estimate(TrainConfig cfg, long corpusBytes) {
    ModelConfig model = cfg.modelConfig(cfg.tokenizer() == TokenizerKind.GPT2 ? 50257 : 256);
    long tokens = switch (cfg.format()) {
      case SHARDS -> corpusBytes / 2;
      case TEXT -> cfg.tokenizer() == TokenizerKind.BYTE ? corpusBytes : corpusBytes / 4;
    };
    long rowsPerRank = tokens / (cfg.contextLength() + 1L) / cfg.loop().worldSize();
    MemoryEstimate whole = MemoryEstimate.of(model, cfg.loop().microBatch(), cfg.loop().worldSize(), cfg.recompute(),
        cfg.loop().optimizer().optimizerSharding(), rowsPerRank);
    return cfg.finetune().lora()
        ? whole.withTrainable(LoraModel.layout(model, cfg.finetune().loraConfig()).totalElements()) : whole;
  }

  /**
   * What a rank may use. On a cluster master: {@code spark.executor.memory} (default 1g) plus
   * {@code spark.executor.memoryOverhead} (default max(384m, 0.1 x memory)), shared by
   * {@code spark.executor.cores / spark.task.cpus} ranks. On a local master: the smallest of
   * JavaCPP's {@code maxphysicalbytes} (which bounds the process's resident size; see NativeMemory)
   * less the Java heap, the physical memory less the Java heap and {@code -XX:MaxDirectMemorySize}
   * (when set), shared by all ranks.
   *
   * @param master   the Spark master, e.g. local[2,4] or spark://host:7077
   * @param settings the job's Spark settings
   */
  public static RankBudget budget(String master, Map<String, String> settings, int worldSize) {
    if (master == null || master.startsWith("local")) {
      return localBudget(worldSize);
    }
    long memoryMb = JavaUtils.byteStringAsMb(settings.getOrDefault("spark.executor.memory", "1g"));
    long overheadMb = settings.containsKey("spark.executor.memoryOverhead")
        ? JavaUtils.byteStringAsMb(settings.get("spark.executor.memoryOverhead"))
        : Math.max(384, (long) (memoryMb * Double.parseDouble(
            settings.getOrDefault("spark.executor.memoryOverheadFactor", "0.1"))));
    int cores = Integer.parseInt(settings.getOrDefault("spark.executor.cores", "1"));
    int taskCpus = Integer.parseInt(settings.getOrDefault("spark.task.cpus", "1"));
    int ranks = Math.max(1, Math.min(worldSize, cores / Math.max(1, taskCpus)));
    return new RankBudget((memoryMb + overheadMb) << 20, ranks, "spark.executor.memory " + memoryMb
        + "m + spark.executor.memoryOverhead " + overheadMb + "m, " + ranks + " rank(s) per executor",
        "raise spark.executor.memoryOverhead (ND4J's arrays live off-heap)");
  }

  private static RankBudget localBudget(int worldSize) {
    long heap = Runtime.getRuntime().maxMemory();
    long bytes = Long.MAX_VALUE;
    String name = "no limit known";
    long[] limits = {NativeMemory.maxResidentBytes() - heap, NativeMemory.physicalMemoryBytes() - heap,
        maxDirectMemory()};
    String[] names = {"JavaCPP maxphysicalbytes less the Java heap (-Dorg.bytedeco.javacpp.maxphysicalbytes)",
        "physical memory less the Java heap", "-XX:MaxDirectMemorySize"};
    for (int i = 0; i < limits.length; i++) {
      if (limits[i] > 0 && limits[i] < bytes) {
        bytes = limits[i];
        name = names[i];
      }
    }
    String source = bytes == Long.MAX_VALUE ? name
        : name + " = " + MemoryEstimate.gib(bytes) + ", all " + worldSize + " ranks in this JVM";
    return new RankBudget(bytes, worldSize, source,
        "raise -Dorg.bytedeco.javacpp.maxphysicalbytes (a JVM option, e.g. in JAVA_TOOL_OPTIONS; default"
            + " maxbytes + 3 x the maximum heap, 4 x the heap when maxbytes is unset), within the machine's"
            + " physical memory");
  }

  /** {@code -XX:MaxDirectMemorySize} when given on this JVM's command line, else 0. */
  private static long maxDirectMemory() {
    long bytes = 0;
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-XX:MaxDirectMemorySize=")) {
        bytes = JavaUtils.byteStringAsBytes(arg.substring(arg.indexOf('=') + 1));
      }
    }
    return bytes;
  }

  /**
   * Refuses an estimate that does not fit the budget: {@code ranksPerJvm} ranks' estimates plus
   * {@link #NATIVE_BYTES} must fit {@code budget.bytes()}.
   *
   * @throws IllegalArgumentException naming the need, the limit and its source, the largest parts
   *     and what to change
   */
  public static void check(MemoryEstimate estimate, RankBudget budget) {
    long need = budget.ranksPerJvm() * estimate.totalBytes() + NATIVE_BYTES;
    if (need <= budget.bytes()) {
      return;
    }
    StringBuilder parts = new StringBuilder();
    for (MemoryEstimate.Part part : estimate.largestFirst().subList(0, 3)) {
      parts.append(parts.length() == 0 ? "" : ", ").append(part.name()).append(' ').append(
          MemoryEstimate.gib(part.bytes()));
    }
    List<String> fixes = new ArrayList<>();
    if (!estimate.recompute()) {
      fixes.add("set recompute: true (activations " + MemoryEstimate.gib(estimate.otherActivationBytes())
          + " instead of " + MemoryEstimate.gib(estimate.activationBytes()) + ")");
    }
    if (estimate.microBatch() > 1) {
      fixes.add("a smaller microBatch (activations grow with it; raise gradAccumSteps to keep the batch)");
    }
    fixes.add(estimate.optimizerSharding() ? "more ranks (each keeps 8 P / N of optimizer state)"
        : "more ranks with optimizerSharding: true (optimizer state 8 P / N per rank instead of 8 P)");
    fixes.add(budget.remedy());
    throw new IllegalArgumentException("the estimated memory does not fit: " + budget.ranksPerJvm() + " rank(s) x "
        + MemoryEstimate.gib(estimate.totalBytes()) + " + " + MemoryEstimate.gib(NATIVE_BYTES)
        + " native code = " + MemoryEstimate.gib(need) + ", but the limit is " + MemoryEstimate.gib(budget.bytes())
        + " (" + budget.source() + "). Largest parts per rank: " + parts + ". To fit: " + String.join("; or ", fixes)
        + ".");
  }
}
