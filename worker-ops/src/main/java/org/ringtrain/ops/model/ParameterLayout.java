/*
 * ParameterLayout: the ordered table of every parameter tensor of a model, with its name, its shape
 * and its offset in the flat buffer: GPT-2's (Hugging Face names) from gpt2(config), any other
 * model's from builder(kind). It is pure bookkeeping: it allocates no tensors (see ParameterBuffer)
 * and knows nothing of ND4J.
 */
package org.ringtrain.ops.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ordered table of every parameter tensor: HF GPT-2 name, shape, offset into the flat buffer.
 *
 * <p>Buffer order is {@code wte, wpe, h.0.*, ..., h.{L-1}.*, ln_f.*}, and inside a block the order
 * the forward pass uses them. Walking the buffer from the end therefore meets the tensors in the
 * order backward finishes them ({@code ln_f} first, {@code wte} last, because both the tied LM head
 * and the token embedding write its gradient), so the all-reduce can cut gradient buckets as
 * ranges from the end. Offsets are dense: no padding between tensors.
 *
 * <p>Linear weights keep GPT-2's Conv1D layout {@code [in, out]}, so {@code y = x @ W + b}.
 *
 * <p>Reference abbreviations used by the model code, mapped to the names here (i is the block):
 * <table>
 *   <caption>Field names and Hugging Face GPT-2 names</caption>
 *   <tr><th>code</th><th>name</th><th>shape</th></tr>
 *   <tr><td>wte</td><td>wte.weight</td><td>[V, C]</td></tr>
 *   <tr><td>wpe</td><td>wpe.weight</td><td>[maxT, C]</td></tr>
 *   <tr><td>ln1w, ln1b</td><td>h.i.ln_1.weight, h.i.ln_1.bias</td><td>[C]</td></tr>
 *   <tr><td>qkvW, qkvB</td><td>h.i.attn.c_attn.weight, .bias</td><td>[C, 3C], [3C]</td></tr>
 *   <tr><td>attProjW, attProjB</td><td>h.i.attn.c_proj.weight, .bias</td><td>[C, C], [C]</td></tr>
 *   <tr><td>ln2w, ln2b</td><td>h.i.ln_2.weight, h.i.ln_2.bias</td><td>[C]</td></tr>
 *   <tr><td>fcW, fcB</td><td>h.i.mlp.c_fc.weight, .bias</td><td>[C, 4C], [4C]</td></tr>
 *   <tr><td>fcProjW, fcProjB</td><td>h.i.mlp.c_proj.weight, .bias</td><td>[4C, C], [C]</td></tr>
 *   <tr><td>lnfW, lnfB</td><td>ln_f.weight, ln_f.bias</td><td>[C]</td></tr>
 * </table>
 */
public final class ParameterLayout {

  /** Suffixes of one block's tensors, in buffer (forward-use) order. */
  static final List<String> BLOCK_SUFFIXES = List.of(
      "ln_1.weight", "ln_1.bias",
      "attn.c_attn.weight", "attn.c_attn.bias",
      "attn.c_proj.weight", "attn.c_proj.bias",
      "ln_2.weight", "ln_2.bias",
      "mlp.c_fc.weight", "mlp.c_fc.bias",
      "mlp.c_proj.weight", "mlp.c_proj.bias");

  private final ModelConfig config; // null for layouts made by a Builder
  private final String kind;
  private final List<TensorSpec> tensors;
  private final Map<String, TensorSpec> byName;
  private final long totalElements;

  private ParameterLayout(ModelConfig config, String kind, List<TensorSpec> tensors) {
    this.config = config;
    this.kind = kind;
    this.tensors = Collections.unmodifiableList(tensors);
    Map<String, TensorSpec> map = new LinkedHashMap<>();
    long end = 0;
    for (TensorSpec t : tensors) {
      map.put(t.name(), t);
      end = t.offset() + t.length();
    }
    this.byName = Collections.unmodifiableMap(map);
    this.totalElements = end;
  }

  /** The layout of a GPT-2 decoder of this config (see the class comment for the order). */
  public static ParameterLayout gpt2(ModelConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("config must not be null; pass a ModelConfig such as ModelConfig.tiny()");
    }
    long v = config.vocabSize();
    long maxT = config.contextLength();
    long c = config.dModel();
    List<TensorSpec> list = new ArrayList<>();
    long[] offset = {0};
    add(list, offset, "wte.weight", v, c);
    add(list, offset, "wpe.weight", maxT, c);
    for (int i = 0; i < config.layers(); i++) {
      String p = blockPrefix(i);
      add(list, offset, p + "ln_1.weight", c);
      add(list, offset, p + "ln_1.bias", c);
      add(list, offset, p + "attn.c_attn.weight", c, 3 * c);
      add(list, offset, p + "attn.c_attn.bias", 3 * c);
      add(list, offset, p + "attn.c_proj.weight", c, c);
      add(list, offset, p + "attn.c_proj.bias", c);
      add(list, offset, p + "ln_2.weight", c);
      add(list, offset, p + "ln_2.bias", c);
      add(list, offset, p + "mlp.c_fc.weight", c, 4 * c);
      add(list, offset, p + "mlp.c_fc.bias", 4 * c);
      add(list, offset, p + "mlp.c_proj.weight", 4 * c, c);
      add(list, offset, p + "mlp.c_proj.bias", c);
    }
    add(list, offset, "ln_f.weight", c);
    add(list, offset, "ln_f.bias", c);
    return new ParameterLayout(config, "gpt2 " + config, list);
  }

  /**
   * A builder for the layout of another model (a classifier, say): tensors are laid out densely in
   * the order they are added, which should be the order forward uses them (so that walking from the
   * end meets them in the order backward finishes them). Rank-2 tensors get weight decay.
   *
   * @param kind a short description of the model, e.g. "lstm-classifier d=64", used in messages
   */
  public static Builder builder(String kind) {
    if (kind == null || kind.isBlank()) {
      throw new IllegalArgumentException("kind must name the model, e.g. \"lstm-classifier\", but found '" + kind + "'");
    }
    return new Builder(kind);
  }

  /** The name prefix of block {@code i}, e.g. {@code "h.3."}. */
  public static String blockPrefix(int i) {
    return "h." + i + ".";
  }

  /** Every tensor, in buffer order (offset ascending). */
  public List<TensorSpec> tensors() {
    return tensors;
  }

  /** The tensor of this name; IllegalArgumentException naming the missing tensor otherwise. */
  public TensorSpec get(String name) {
    TensorSpec t = byName.get(name);
    if (t == null && config == null) {
      throw new IllegalArgumentException("no parameter tensor named '" + name + "' in the layout of " + kind
          + "; expected one of " + byName.keySet());
    }
    if (t == null) {
      throw new IllegalArgumentException("no parameter tensor named '" + name + "' in the GPT-2 layout of "
          + config + "; expected one of wte.weight, wpe.weight, h.0.." + (config.layers() - 1)
          + ".{" + String.join(",", BLOCK_SUFFIXES) + "}, ln_f.weight, ln_f.bias");
    }
    return t;
  }

  /** Whether a tensor of this name exists. */
  public boolean contains(String name) {
    return byName.containsKey(name);
  }

  /** Total number of parameter elements, the length of the flat buffer. */
  public long totalElements() {
    return totalElements;
  }

  /** Whether this is a GPT-2 layout (made by {@link #gpt2}), which has a {@link #config()}. */
  public boolean isGpt2() {
    return config != null;
  }

  /** The model this layout belongs to, as given to {@link #builder} or "gpt2 " + config. */
  public String kind() {
    return kind;
  }

  /**
   * The GPT config this layout was computed from.
   *
   * @throws IllegalStateException for a layout made by a {@link Builder}
   */
  public ModelConfig config() {
    if (config == null) {
      throw new IllegalStateException("the layout of " + kind + " is not a GPT-2 layout and has no ModelConfig;"
          + " check isGpt2() first");
    }
    return config;
  }

  /**
   * The half-open element range {@code [from, to)} of block {@code i}'s tensors in the buffer.
   * Useful to cut gradient buckets on block boundaries.
   */
  public long[] blockRange(int i) {
    config(); // GPT-2 layouts only
    if (i < 0 || i >= config.layers()) {
      throw new IllegalArgumentException("block index must be in [0, " + config.layers() + "), but found " + i);
    }
    String p = blockPrefix(i);
    TensorSpec first = get(p + BLOCK_SUFFIXES.get(0));
    TensorSpec last = get(p + BLOCK_SUFFIXES.get(BLOCK_SUFFIXES.size() - 1));
    return new long[] {first.offset(), last.offset() + last.length()};
  }

  @Override
  public String toString() {
    return "ParameterLayout[" + tensors.size() + " tensors, " + totalElements + " elements, "
        + (config != null ? config : kind) + "]";
  }

  /** Collects the tensors of a non-GPT layout in buffer order; see {@link ParameterLayout#builder}. */
  public static final class Builder {
    private final String kind;
    private final List<TensorSpec> list = new ArrayList<>();
    private final long[] offset = {0};

    private Builder(String kind) {
      this.kind = kind;
    }

    /** Appends a tensor of this name and shape (positive dimensions); names must be unique. */
    public Builder add(String name, long... shape) {
      for (TensorSpec t : list) {
        if (t.name().equals(name)) {
          throw new IllegalArgumentException("tensor " + name + " was already added to the layout of " + kind);
        }
      }
      ParameterLayout.add(list, offset, name, shape);
      return this;
    }

    /** The layout; at least one tensor is needed. */
    public ParameterLayout build() {
      if (list.isEmpty()) {
        throw new IllegalStateException("the layout of " + kind + " has no tensors; add() at least one");
      }
      return new ParameterLayout(null, kind, new ArrayList<>(list));
    }
  }

  private static void add(List<TensorSpec> list, long[] offset, String name, long... shape) {
    long length = 1;
    for (long d : shape) {
      length *= d;
    }
    list.add(new TensorSpec(name, shape, offset[0], length));
    offset[0] += length;
  }

  /**
   * One tensor: name (HF GPT-2, e.g. "h.0.attn.c_attn.weight"), shape (GPT-2 layout, linear weights
   * [in, out]), offset and length in float elements, and whether AdamW weight decay applies (true
   * exactly for tensors of rank 2).
   *
   * @param name   Hugging Face GPT-2 tensor name
   * @param shape  tensor shape; a defensive copy is kept and returned
   * @param offset first element in the flat buffer
   * @param length number of elements, the product of {@code shape}
   */
  public record TensorSpec(String name, long[] shape, long offset, long length) {

    /** Checks that the length matches the shape and copies the shape. */
    public TensorSpec {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("tensor name must be non-empty, but found '" + name + "'");
      }
      shape = shape.clone();
      long product = 1;
      for (long d : shape) {
        if (d <= 0) {
          throw new IllegalArgumentException("tensor " + name + " must have positive dimensions, but found shape "
              + Arrays.toString(shape));
        }
        product *= d;
      }
      if (product != length) {
        throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(shape)
            + " of " + product + " elements, but length " + length + " was given");
      }
      if (offset < 0) {
        throw new IllegalArgumentException("tensor " + name + " must have offset >= 0, but found " + offset);
      }
    }

    /** The shape, as a copy the caller may change. */
    @Override
    public long[] shape() {
      return shape.clone();
    }

    /** Whether AdamW weight decay applies: exactly the rank-2 tensors (matrices and embeddings). */
    public boolean decays() {
      return shape.length == 2;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TensorSpec t && name.equals(t.name) && Arrays.equals(shape, t.shape)
          && offset == t.offset && length == t.length;
    }

    @Override
    public int hashCode() {
      return (name.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
      return name + Arrays.toString(shape) + "@" + offset;
    }
  }
}
