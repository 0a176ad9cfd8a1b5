/*
 * LoraConfig: the shape of low-rank adapters (rank, alpha, which linear layers of each block get
 * one), validated once, with the parser of the layer names users write. It holds no tensors and
 * knows nothing of training loops.
 */
package org.ringtrain.ops.lora;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.ringtrain.ops.transformer.BlockAdapters.Target;

/**
 * Adapters {@code W x + (alpha / rank) B A x} beside the targeted linear layers of every block.
 *
 * @param rank    r, the adapters' inner width (default {@value #DEFAULT_RANK})
 * @param alpha   the scale numerator; the update is scaled by {@code alpha / rank} (default
 *                {@value #DEFAULT_ALPHA}, as PEFT's examples use)
 * @param targets the layers that get an adapter, in block order (default {@code c_attn} only)
 */
public record LoraConfig(int rank, double alpha, Set<Target> targets) implements Serializable {

  /** Default rank. */
  public static final int DEFAULT_RANK = 8;
  /** Default alpha. */
  public static final double DEFAULT_ALPHA = 16.0;
  /** Default targets, as names: GPT-2's query/key/value projection. */
  public static final String DEFAULT_TARGETS = "c_attn";

  /** Validates the fields; copies the targets. */
  public LoraConfig {
    if (rank < 1) {
      throw new IllegalArgumentException("loraRank must be >= 1, but found " + rank + "; 8 is usual, 4-64 common");
    }
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      throw new IllegalArgumentException("loraAlpha must be a positive number, but found " + alpha
          + "; 2 x loraRank (16 at rank 8) is usual");
    }
    if (targets == null || targets.isEmpty()) {
      throw new IllegalArgumentException("loraTargets must name at least one layer, but found " + targets
          + "; use any of c_attn, attn.c_proj, c_fc, mlp.c_proj");
    }
    targets = Set.copyOf(EnumSet.copyOf(targets));
  }

  /** The adapters' scale, {@code alpha / rank}. */
  public double scale() {
    return alpha / rank;
  }

  /** The targets in block order (QKV, attention projection, MLP in, MLP out). */
  public List<Target> orderedTargets() {
    return new ArrayList<>(EnumSet.copyOf(targets));
  }

  /**
   * Parses comma-separated layer names: {@code c_attn} (or {@code attn.c_attn}), {@code attn.c_proj},
   * {@code c_fc} (or {@code mlp.c_fc}), {@code mlp.c_proj}.
   *
   * @throws IllegalArgumentException naming an unknown or ambiguous name and the accepted ones
   */
  public static Set<Target> parseTargets(String names) {
    Set<Target> out = EnumSet.noneOf(Target.class);
    for (String raw : (names == null ? "" : names).split(",")) {
      String name = raw.trim();
      if (name.isEmpty()) {
        continue;
      }
      Target found = null;
      for (Target t : Target.values()) {
        if (t.module().equals(name) || (!name.equals("c_proj") && t.module().endsWith("." + name))) {
          found = t;
        }
      }
      if (found == null) {
        throw new IllegalArgumentException("loraTargets: unknown layer '" + name + "' in '" + names + "'; expected"
            + " any of c_attn, attn.c_proj, c_fc, mlp.c_proj" + (name.equals("c_proj")
            ? " (c_proj alone is ambiguous: say attn.c_proj or mlp.c_proj)" : ""));
      }
      out.add(found);
    }
    return out;
  }

  /** The targets as the names {@link #parseTargets} reads, comma-separated, in block order. */
  public String targetNames() {
    List<String> names = new ArrayList<>();
    for (Target t : orderedTargets()) {
      names.add(t.module());
    }
    return String.join(",", names);
  }
}
