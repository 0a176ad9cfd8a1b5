/*
 * Int8ModelFile: the int8 quantised GPT as a safetensors file - which tensors the scheme
 * quantises, how they are named and stored (I8 values under the float model's name, F32 scales
 * under NAME.scale, the scheme in the metadata), and the checks that refuse a malformed file. It
 * does not pick file systems (the driver streams) and does not run the model (Int8GptWeights does).
 */
package org.ringtrain.ops.quant;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.io.SafetensorsException;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.io.TensorFile;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;

/**
 * File layout: every tensor of {@link GptModel#layout} under its own name. The matmul weights of
 * each block ({@code attn.c_attn}, {@code attn.c_proj}, {@code mlp.c_fc}, {@code mlp.c_proj},
 * [in, out]) are I8 of the float shape, with {@code <name>.scale} F32 [out]; with embeddings
 * quantised, {@code wte.weight} and {@code wpe.weight} likewise with scales [rows]; everything
 * else (biases, layer norms, unquantised embeddings) stays F32. Metadata: {@code format=pt},
 * {@link TensorFile#QUANTIZATION_KEY} = {@value #SCHEME}, the model config as for a float
 * checkpoint, and whatever the caller adds (the driver adds the run's config and tokenizer).
 */
public final class Int8ModelFile {

  /** The scheme's name in the metadata: symmetric int8, one float32 scale per output channel. */
  public static final String SCHEME = "int8-symmetric-per-output-channel-v1";

  /** Suffix of a quantised tensor's scales. */
  public static final String SCALE_SUFFIX = ".scale";

  private static final Set<String> LINEAR_SUFFIXES = Set.of("attn.c_attn.weight", "attn.c_proj.weight",
      "mlp.c_fc.weight", "mlp.c_proj.weight");
  private static final Set<String> EMBEDDINGS = Set.of("wte.weight", "wpe.weight");

  private Int8ModelFile() {
  }

  /**
   * How the scheme stores {@code name}: COLUMNS for a block's matmul weight, ROWS for an embedding
   * when {@code embeddings}, null when it stays float32.
   */
  public static Int8Matrix.Axis axisOf(String name, boolean embeddings) {
    if (EMBEDDINGS.contains(name)) {
      return embeddings ? Int8Matrix.Axis.ROWS : null;
    }
    int dot = name.startsWith("h.") ? name.indexOf('.', 2) : -1;
    return dot > 0 && LINEAR_SUFFIXES.contains(name.substring(dot + 1)) ? Int8Matrix.Axis.COLUMNS : null;
  }

  /**
   * Quantises the float32 parameters {@code params} of a GPT of {@code config} and writes the file
   * to {@code out} (flushed, not closed).
   *
   * @param embeddings whether wte and wpe are quantised too (default false: they stay float32)
   * @param metadata   extra metadata, added to the scheme's
   * @return bytes written
   */
  public static long write(ModelConfig config, ParameterBuffer params, boolean embeddings,
      Map<String, String> metadata, OutputStream out) throws IOException {
    ParameterLayout layout = GptModel.layout(config);
    Map<String, TensorFile.Tensor> tensors = new LinkedHashMap<>();
    try (Int8GptWeights w = Int8GptWeights.quantize(config, params, embeddings)) {
      for (TensorSpec t : layout.tensors()) {
        Int8Matrix m = w.matrix(t.name());
        if (m == null) {
          tensors.put(t.name(), TensorFile.Tensor.f32(t.shape(), w.floats(t.name())));
        } else {
          tensors.put(t.name(), TensorFile.Tensor.i8(t.shape(), m.q()));
          tensors.put(t.name() + SCALE_SUFFIX, TensorFile.Tensor.f32(new long[] {m.channels()}, m.scale()));
        }
      }
    }
    long bytes = 0;
    for (TensorFile.Tensor t : tensors.values()) {
      bytes += t.data().length;
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.putAll(layout.description());
    meta.put(TensorFile.QUANTIZATION_KEY, SCHEME);
    meta.put(SafetensorsWriter.FORMAT_VERSION_KEY, SafetensorsWriter.FORMAT_VERSION);
    meta.putAll(metadata);
    TensorFile.write(tensors, meta, out);
    return bytes;
  }

  /**
   * Reads a whole file and returns its metadata and tensors, after checking that it is a
   * quantised model of the known scheme (not yet that its tensors fit a config: {@link #weights}).
   *
   * @param size the file's size, or -1 if unknown
   */
  public static TensorFile.Contents read(InputStream in, long size, String source) throws IOException {
    TensorFile.Contents c = TensorFile.read(in, size, source);
    String scheme = c.metadata().get(TensorFile.QUANTIZATION_KEY);
    if (!SCHEME.equals(scheme)) {
      throw new SafetensorsException(source + " is not an int8 model of this version: expected metadata "
          + TensorFile.QUANTIZATION_KEY + "=" + SCHEME + ", found " + (scheme == null ? "none" : "'" + scheme + "'")
          + "; write it with `ringtrain quantize --checkpoint-dir DIR --output FILE`"
          + (scheme == null ? " (a float32 checkpoint loads with --checkpoint-dir)" : ""));
    }
    return c;
  }

  /**
   * The weights in {@code contents}, checked against the layout of {@code config}: every tensor
   * present once with the float model's shape, I8 only where the scheme quantises (embeddings as
   * a pair, both or neither), each I8 tensor with finite, non-negative scales of its channel
   * count, and nothing else.
   *
   * @param source how messages name the file
   * @throws SafetensorsException naming the tensor, what was expected and what was found
   */
  public static Int8GptWeights weights(ModelConfig config, TensorFile.Contents contents, String source)
      throws SafetensorsException {
    ParameterLayout layout = GptModel.layout(config);
    Map<String, TensorFile.Tensor> tensors = contents.tensors();
    TensorFile.Tensor wte = tensors.get("wte.weight");
    boolean embeddings = wte != null && "I8".equals(wte.dtype());
    Set<String> expected = new HashSet<>();
    Map<String, Int8Matrix> matrices = new LinkedHashMap<>();
    Map<String, float[]> floats = new LinkedHashMap<>();
    for (TensorSpec t : layout.tensors()) {
      Int8Matrix.Axis axis = axisOf(t.name(), embeddings);
      TensorFile.Tensor v = tensors.get(t.name());
      String want = axis == null ? "F32" : "I8";
      if (v == null) {
        throw new SafetensorsException(source + ": missing tensor '" + t.name() + "': expected " + want
            + Arrays.toString(t.shape()) + " for " + config + "; the file is incomplete or for another model");
      }
      if (!want.equals(v.dtype()) || !Arrays.equals(v.shape(), t.shape())) {
        throw new SafetensorsException(source + ": tensor '" + t.name() + "' is " + v + ", expected " + want
            + Arrays.toString(t.shape()) + " (" + (axis == null ? "kept float32 by the scheme" : "int8 by the scheme")
            + ", " + config + "); the file is corrupt or for another model config: quantise the checkpoint again");
      }
      expected.add(t.name());
      if (axis == null) {
        floats.put(t.name(), v.floats());
        continue;
      }
      String scaleName = t.name() + SCALE_SUFFIX;
      TensorFile.Tensor s = tensors.get(scaleName);
      long channels = axis == Int8Matrix.Axis.COLUMNS ? t.shape()[1] : t.shape()[0];
      if (s == null || !"F32".equals(s.dtype()) || !Arrays.equals(s.shape(), new long[] {channels})) {
        throw new SafetensorsException(source + ": int8 tensor '" + t.name() + "' needs its scales '" + scaleName
            + "' as F32[" + channels + "] (one per output channel), but found " + (s == null ? "none" : s)
            + "; the file is corrupt: quantise the checkpoint again");
      }
      float[] scale = s.floats();
      for (int i = 0; i < scale.length; i++) {
        if (!(scale[i] >= 0) || Float.isInfinite(scale[i])) {
          throw new SafetensorsException(source + ": scale " + i + " of '" + t.name() + "' is " + scale[i]
              + ", expected a finite value >= 0; the file is corrupt");
        }
      }
      expected.add(scaleName);
      matrices.put(t.name(), new Int8Matrix((int) t.shape()[0], (int) t.shape()[1], axis, v.data(), scale));
    }
    for (String name : tensors.keySet()) {
      if (!expected.contains(name)) {
        throw new SafetensorsException(source + ": unknown tensor '" + name + "' for an int8 " + config
            + " (quantised embeddings: " + embeddings + "); the file is corrupt or for another model config");
      }
    }
    return new Int8GptWeights(config, matrices, floats);
  }
}
