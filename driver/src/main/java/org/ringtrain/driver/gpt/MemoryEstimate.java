/*
 * MemoryEstimate: what one rank of a GPT training run holds, computed from the config alone
 * (pure arithmetic, no ND4J allocation): weights, gradients, AdamW state (whole or its 1/N slice
 * with optimizer sharding), the activations of one micro-batch with and without recomputation,
 * and the rank's training rows. It mirrors the arrays GptModel actually allocates (GptActivations,
 * TransformerActivations, BlockActivations, BlockScratch, ChunkedLmHead); MemoryEstimateTest holds
 * it to GptModel.activationBytes() to the byte. It does not know the rank's limit (MemoryPreflight
 * does) and does not count the Java heap of Spark itself or ND4J's native libraries.
 */
package org.ringtrain.driver.gpt;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

/**
 * Bytes one rank holds while training a GPT of one {@link ModelConfig} in float32.
 *
 * @param parameters        P
 * @param worldSize         N ranks
 * @param microBatch        B, sequences per micro-batch
 * @param recompute         whether activation recomputation is on
 * @param optimizerSharding whether each rank keeps only its 1/N slice of AdamW's m and v
 * @param weightBytes       4 P
 * @param gradientBytes     4 P
 * @param optimizerBytes    8 P (m and v), or 8 P / N sharded
 * @param activationBytes   the activations of one micro-batch with this {@code recompute} choice
 * @param otherActivationBytes the activations with the other choice, for the comparison
 * @param rowBytes          the rank's training rows (int32 token windows on the Java heap)
 */
public record MemoryEstimate(long parameters, int worldSize, int microBatch, boolean recompute,
    boolean optimizerSharding, long weightBytes, long gradientBytes, long optimizerBytes, long activationBytes,
    long otherActivationBytes, long rowBytes) {

  /** One named part of the estimate. */
  public record Part(String name, long bytes) {
  }

  /**
   * The estimate of a rank.
   *
   * @param model             the model (its vocabulary decides the LM head's chunk)
   * @param microBatch        B, at least 1
   * @param worldSize         N, at least 1
   * @param recompute         activation recomputation
   * @param optimizerSharding AdamW state sliced over the ranks
   * @param rowsPerRank       training sequences a rank holds (0 if unknown)
   */
  public static MemoryEstimate of(ModelConfig model, int microBatch, int worldSize, boolean recompute,
      boolean optimizerSharding, long rowsPerRank) {
    if (model == null || microBatch < 1 || worldSize < 1 || rowsPerRank < 0) {
      throw new IllegalArgumentException("a memory estimate needs a model, microBatch >= 1, worldSize >= 1 and"
          + " rowsPerRank >= 0, but found model=" + model + ", microBatch=" + microBatch + ", worldSize="
          + worldSize + ", rowsPerRank=" + rowsPerRank);
    }
    long p = GptModel.layout(model).totalElements();
    long optimizer = optimizerSharding ? ceilDiv(8 * p, worldSize) : 8 * p;
    // A row is an int[T + 1]: 16 bytes of array header, 4 per token.
    long rows = rowsPerRank * (16 + 4L * (model.contextLength() + 1));
    return new MemoryEstimate(p, worldSize, microBatch, recompute, optimizerSharding, 4 * p, 4 * p, optimizer,
        activationBytes(model, microBatch, recompute), activationBytes(model, microBatch, !recompute), rows);
  }

  /**
   * This estimate for a run that trains only {@code trainable} of the parameters (LoRA adapters
   * beside frozen weights): gradients and AdamW state for those alone, the weights as before (the
   * adapters' own, a fraction of a percent, are not added).
   */
  public MemoryEstimate withTrainable(long trainable) {
    long optimizer = optimizerSharding ? ceilDiv(8 * trainable, worldSize) : 8 * trainable;
    return new MemoryEstimate(parameters, worldSize, microBatch, recompute, optimizerSharding, weightBytes,
        4 * trainable, optimizer, activationBytes, otherActivationBytes, rowBytes);
  }

  /**
   * The off-heap bytes of GptModel's activations for a float32 batch of {@code batch} sequences of
   * the full context length, with the default LM-head chunk: what {@code GptModel.activationBytes()}
   * reports after such a forward. In float32 elements, with n = B T tokens:
   * <ul>
   *   <li>kept by the blocks: {@code n L (16 C + 4 + NH T)}; with recomputation
   *       {@code n (16 C + 4 + NH T) + n (L - 1) C} (one shared set and each block's output);</li>
   *   <li>embeddings, final LayerNorm, residual gradient and the scratch all blocks share:
   *       {@code n (31 C + 3 + NH T + NH)};</li>
   *   <li>the LM head's two chunk arrays: {@code 2 R V}, R = min(n, the default chunk rows);</li>
   *   <li>token ids (int32) and a ones row: {@code 2 n}; the causal mask: {@code T T}.</li>
   * </ul>
   */
  public static long activationBytes(ModelConfig model, int batch, boolean recompute) {
    long c = model.dModel();
    long t = model.contextLength();
    long nh = model.heads();
    long layers = model.layers();
    long v = model.vocabSize();
    long n = batch * t;
    long perBlock = 16 * c + 4 + nh * t;
    long kept = recompute ? perBlock + (layers - 1) * c : layers * perBlock;
    long shared = 31 * c + 3 + nh * t + nh;
    long headRows = Math.min(n, GptModel.defaultHeadChunkRows(model.vocabSize(), Float.BYTES));
    long floats = n * (kept + shared) + 2 * headRows * v + n + t * t;
    return Float.BYTES * floats + Integer.BYTES * n;
  }

  /** Weights, gradients, optimizer state and activations: the rank's ND4J off-heap memory. */
  public long offHeapBytes() {
    return weightBytes + gradientBytes + optimizerBytes + activationBytes;
  }

  /** Everything the rank holds: {@link #offHeapBytes()} plus the training rows. */
  public long totalBytes() {
    return offHeapBytes() + rowBytes;
  }

  /** The parts, largest first. */
  public List<Part> largestFirst() {
    List<Part> parts = new ArrayList<>(List.of(
        new Part("activations per micro-batch (B=" + microBatch + ", recompute " + (recompute ? "on" : "off") + ")",
            activationBytes),
        new Part("AdamW m and v" + (optimizerSharding ? " (1/" + worldSize + " slice)" : ""), optimizerBytes),
        new Part("weights", weightBytes),
        new Part("gradients", gradientBytes),
        new Part("training rows", rowBytes)));
    parts.sort(Comparator.comparingLong(Part::bytes).reversed());
    return parts;
  }

  /** A multi-line table of the parts, for the log before Spark starts. */
  public String table() {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
        "memory per rank, estimated (P = %,d parameters, N = %d, B = %d):%n", parameters, worldSize, microBatch));
    s.append(line("weights (4 P)", weightBytes));
    s.append(line("gradients (4 P)", gradientBytes));
    s.append(line(optimizerSharding ? "AdamW m, v (8 P / N)" : "AdamW m, v (8 P)", optimizerBytes));
    s.append(line("activations, recompute " + (recompute ? "on" : "off"), activationBytes));
    s.append(line("  (recompute " + (recompute ? "off" : "on") + " would need)", otherActivationBytes));
    s.append(line("training rows (Java heap)", rowBytes));
    s.append(line("total", totalBytes()));
    return s.toString();
  }

  /** {@code bytes} in GiB with two decimals, e.g. "1.86 GiB". */
  public static String gib(long bytes) {
    return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
  }

  private static String line(String name, long bytes) {
    return String.format(Locale.ROOT, "  %-40s %12s%n", name, gib(bytes));
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
