/*
 * Int8GptWeights: the weights of an int8 quantised GPT behind the Generator's GptWeights
 * interface: int8 matrices with per-channel scales for every matmul (and the embeddings when
 * quantised), float32 for biases and layer norms. Matmuls run on the int8 values (Int8Matmul);
 * no whole float weight is ever rebuilt. It neither reads files (Int8ModelFile) nor trains.
 */
package org.ringtrain.ops.quant;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.gpt.FloatGptWeights;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.GptWeights;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.layers.Encoder;
import org.ringtrain.ops.layers.TiedLmHead;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;

/**
 * An int8 GPT for inference. Memory: one byte per quantised weight plus 4 per channel scale,
 * 4 bytes per float32 value (twice for tensors kept float32: a Java copy for the file and an
 * ND4J copy for the layers), and the matmul's scratch. Not thread-safe: one per caller thread.
 */
public final class Int8GptWeights implements GptWeights {

  private final ModelConfig config;
  private final Map<String, Int8Matrix> matrices; // by tensor name, e.g. h.0.attn.c_attn.weight
  private final Map<String, float[]> floats; // every tensor kept float32, by name
  private final Map<String, INDArray> arrays = new HashMap<>(); // ND4J copies of floats, made on first use
  private final Int8Matmul matmul;
  private final float[] row;

  /** Weights from checked parts (see {@link Int8ModelFile#weights}); the maps are kept, not copied. */
  Int8GptWeights(ModelConfig config, Map<String, Int8Matrix> matrices, Map<String, float[]> floats) {
    this(config, matrices, floats, Int8Matmul.Path.VECTOR);
  }

  private Int8GptWeights(ModelConfig config, Map<String, Int8Matrix> matrices, Map<String, float[]> floats,
      Int8Matmul.Path path) {
    this.config = config;
    this.matrices = matrices;
    this.floats = floats;
    this.matmul = new Int8Matmul(path);
    this.row = new float[config.dModel()];
  }

  /**
   * Quantises a float32 GPT's parameters in memory (what {@link Int8ModelFile#write} stores).
   *
   * @param embeddings whether wte and wpe are quantised too (default false)
   */
  public static Int8GptWeights quantize(ModelConfig config, ParameterBuffer params, boolean embeddings) {
    Map<String, Int8Matrix> matrices = new LinkedHashMap<>();
    Map<String, float[]> floats = new LinkedHashMap<>();
    for (TensorSpec t : GptModel.layout(config).tensors()) {
      INDArray view = params.view(t.name());
      float[] w = view.reshape(view.length()).toFloatVector();
      Int8Matrix.Axis axis = Int8ModelFile.axisOf(t.name(), embeddings);
      if (axis == null) {
        floats.put(t.name(), w);
      } else {
        matrices.put(t.name(), Int8Matrix.quantize(w, (int) t.shape()[0], (int) t.shape()[1], axis));
      }
    }
    return new Int8GptWeights(config, matrices, floats);
  }

  /**
   * The same weights (shared, not copied) with their linear layers multiplied on {@code path}
   * (default {@link Int8Matmul.Path#VECTOR}); for the benchmark that compares the paths.
   */
  public Int8GptWeights withPath(Int8Matmul.Path path) {
    return new Int8GptWeights(config, matrices, floats, path);
  }

  /** The int8 matrix of a quantised tensor, or null if {@code name} is kept float32. */
  public Int8Matrix matrix(String name) {
    return matrices.get(name);
  }

  /** The values of a tensor kept float32, or null if {@code name} is quantised. */
  public float[] floats(String name) {
    return floats.get(name);
  }

  /** Whether the embeddings (wte, wpe) are int8. */
  public boolean embeddingsQuantized() {
    return matrices.containsKey("wte.weight");
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public INDArray norm(String name) {
    return array(name);
  }

  @Override
  public void linear(INDArray out, INDArray inp, String layer) {
    matmul.linear(out, inp, matrices.get(layer + ".weight"), floats.get(layer + ".bias"));
  }

  @Override
  public void embed(INDArray out, INDArray tokens, int batch, int pos) {
    if (!embeddingsQuantized()) {
      Encoder.forward(out, tokens, array("wte.weight"), array("wpe.weight"), batch, 1, pos);
      return;
    }
    int[] ids = new int[batch];
    int[] positions = new int[batch];
    for (int b = 0; b < batch; b++) {
      ids[b] = tokens.getInt(b);
      positions[b] = pos;
    }
    embedInt8(out, ids, positions, batch);
  }

  @Override
  public void embedRows(INDArray out, int[] tokens, int[] positions, int n) {
    if (embeddingsQuantized()) {
      embedInt8(out, tokens, positions, n);
    } else {
      FloatGptWeights.gatherRows(out, array("wte.weight"), array("wpe.weight"), tokens, positions, n);
    }
  }

  /** Rows of dequantised token plus position embeddings, written straight into {@code out}'s buffer. */
  private void embedInt8(INDArray out, int[] tokens, int[] positions, int n) {
    Int8Matrix wte = matrices.get("wte.weight");
    Int8Matrix wpe = matrices.get("wpe.weight");
    int c = config.dModel();
    FloatBuffer dst = out.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    for (int b = 0; b < n; b++) {
      int token = tokens[b];
      int tq = token * c;
      int pq = positions[b] * c;
      float ts = wte.scale()[token];
      float ps = wpe.scale()[positions[b]];
      for (int j = 0; j < c; j++) {
        row[j] = wte.q()[tq + j] * ts + wpe.q()[pq + j] * ps;
      }
      dst.position(b * c);
      dst.put(row, 0, c);
    }
  }

  @Override
  public void lmHead(INDArray logits, INDArray inp) {
    if (embeddingsQuantized()) {
      matmul.head(logits, inp, matrices.get("wte.weight"));
    } else {
      TiedLmHead.forward(logits, inp, array("wte.weight"));
    }
  }

  private INDArray array(String name) {
    return arrays.computeIfAbsent(name, n -> {
      float[] v = floats.get(n);
      if (v == null) {
        throw new IllegalArgumentException("no float32 tensor '" + n + "' in this int8 model; expected a layer norm"
            + " or bias name such as h.0.ln_1.weight");
      }
      long[] shape = n.startsWith("w") ? new long[] {v.length / config.dModel(), config.dModel()} : new long[] {v.length};
      return Nd4j.createFromArray(v).reshape(shape);
    });
  }

  @Override
  public void close() {
    arrays.values().forEach(INDArray::close);
    arrays.clear();
    matmul.close();
  }
}
