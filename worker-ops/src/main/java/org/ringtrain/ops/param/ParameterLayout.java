/*
 * ParameterLayout: the ordered table of every parameter tensor of a model, with its name, its shape
 * and its offset in the flat buffer, plus a few strings that describe the model in files. Each
 * model builds its own (GptModel.layout, the classifiers' layout); this is pure bookkeeping: it
 * allocates no tensors (see ParameterBuffer), knows no model and nothing of ND4J.
 */
package org.ringtrain.ops.param;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ringtrain.ops.gpt.GptModel;

/**
 * Ordered table of every parameter tensor: name, shape, offset into the flat buffer.
 *
 * <p>Tensors are laid out densely in the order they were added, which models choose to be the
 * order forward uses them, so that walking the buffer from the end meets them in the order backward
 * finishes them and the all-reduce can cut gradient buckets as ranges from the end. Gradients and
 * optimizer moments use the identical layout.
 *
 * <p>Transformer models use Hugging Face GPT-2 names and Conv1D layouts {@code [in, out]} for their
 * linear weights (so {@code y = x @ W + b}); the reference abbreviations the code uses map to
 * them in one table, {@link org.ringtrain.ops.transformer.BlockTensors}.
 */
public final class ParameterLayout {

  private final String kind;
  private final Map<String, String> description;
  private final List<TensorSpec> tensors;
  private final Map<String, TensorSpec> byName;
  private final long totalElements;

  private ParameterLayout(String kind, Map<String, String> description, List<TensorSpec> tensors) {
    this.kind = kind;
    this.description = Collections.unmodifiableMap(new LinkedHashMap<>(description));
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

  /**
   * A builder: tensors are laid out densely in the order they are added, which should be the order
   * forward uses them (so that walking from the end meets them in the order backward finishes
   * them). Rank-2 tensors get weight decay.
   *
   * @param kind a short description of the model, e.g. "lstm-classifier d=64", used in messages
   */
  public static Builder builder(String kind) {
    if (kind == null || kind.isBlank()) {
      throw new IllegalArgumentException("kind must name the model, e.g. \"lstm-classifier\", but found '" + kind + "'");
    }
    return new Builder(kind);
  }

  /** Every tensor, in buffer order (offset ascending). */
  public List<TensorSpec> tensors() {
    return tensors;
  }

  /** The tensor of this name; IllegalArgumentException naming the missing tensor otherwise. */
  public TensorSpec get(String name) {
    TensorSpec t = byName.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no parameter tensor named '" + name + "' in the layout of " + kind
          + "; expected one of " + byName.keySet());
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

  /** The model this layout belongs to, as given to {@link #builder}. */
  public String kind() {
    return kind;
  }

  /**
   * Strings that describe the model in files (safetensors metadata), as given to
   * {@link Builder#describe}; empty unless the model gave some.
   */
  public Map<String, String> description() {
    return description;
  }

  @Override
  public String toString() {
    return "ParameterLayout[" + tensors.size() + " tensors, " + totalElements + " elements, "
        + kind + "]";
  }

  /** Collects the tensors of a layout in buffer order; see {@link ParameterLayout#builder}. */
  public static final class Builder {
    private final String kind;
    private final Map<String, String> description = new LinkedHashMap<>();
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

    /** Adds a string describing the model in files (e.g. its config as JSON under a metadata key). */
    public Builder describe(String key, String value) {
      if (key == null || key.isBlank() || value == null) {
        throw new IllegalArgumentException("a description needs a non-blank key and a value, but found key='"
            + key + "', value=" + value);
      }
      description.put(key, value);
      return this;
    }

    /** The layout; at least one tensor is needed. */
    public ParameterLayout build() {
      if (list.isEmpty()) {
        throw new IllegalStateException("the layout of " + kind + " has no tensors; add() at least one");
      }
      return new ParameterLayout(kind, description, new ArrayList<>(list));
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
   * One tensor: name (e.g. "h.0.attn.c_attn.weight"), shape (linear weights [in, out]), offset and length in float elements, and whether AdamW weight decay applies (true
   * exactly for tensors of rank 2).
   *
   * @param name   tensor name (Hugging Face GPT-2 names for Transformer tensors)
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
