/*
 * Gpt2Import: loads a GPT-2 safetensors file in Hugging Face form (the files `transformers`
 * writes for GPT2Model or GPT2LMHeadModel, and ringtrain's own model.safetensors) into a GptModel's
 * flat parameter buffer, after checking the model shape it holds against the run's. It reads
 * float32 files only, has no optimizer state (an import starts at step 0) and is not the
 * checkpoint reader (driver.checkpoint reads checkpoints).
 */
package org.ringtrain.ops.gpt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.ringtrain.ops.io.SafetensorsException;
import org.ringtrain.ops.io.SafetensorsReader;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.param.ParameterBuffer;

/**
 * Hugging Face GPT-2 weights into a {@link GptModel}. Accepted, as {@code transformers} writes them:
 * <ul>
 *   <li>names bare ({@code h.0.attn.c_attn.weight}, GPT2Model) or prefixed
 *       ({@code transformer.h.0.attn.c_attn.weight}, GPT2LMHeadModel);</li>
 *   <li>Conv1D weights {@code [in, out]}, ringtrain's own layout, so no tensor is transposed;</li>
 *   <li>the non-parameter buffers {@code h.i.attn.bias} and {@code h.i.attn.masked_bias} (the
 *       causal mask of older versions), skipped;</li>
 *   <li>{@code lm_head.weight} absent or bit for bit equal to {@code wte.weight}: the head is tied
 *       here, so an untied head is refused rather than silently dropped.</li>
 * </ul>
 * The shape comes from {@code config.json} in the same directory when there is one (its
 * {@code activation_function} must be {@code gelu_new}, the tanh GELU ringtrain computes), else from
 * the file's own ringtrain metadata, else from the tensor shapes (all but the head count, which
 * tensors do not show).
 */
public final class Gpt2Import {

  /** The only activation ringtrain computes: GPT-2's tanh approximation of GELU. */
  public static final String ACTIVATION = "gelu_new";

  /** The config file Hugging Face keeps beside the weights. */
  public static final String CONFIG_FILE = "config.json";

  private static final String PREFIX = "transformer.";
  private static final String HEAD = "lm_head.weight";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Gpt2Import() {
  }

  /**
   * The model shape a file holds.
   *
   * @param vocabSize     V ({@code vocab_size})
   * @param contextLength the rows of {@code wpe} ({@code n_positions})
   * @param dModel        C ({@code n_embd})
   * @param layers        L ({@code n_layer})
   * @param heads         NH ({@code n_head}); 0 when only tensor shapes were there to read
   * @param source        where the shape was read: the config.json path, the file's metadata, or
   *                      "tensor shapes"
   */
  public record Shape(int vocabSize, int contextLength, int dModel, int layers, int heads, String source) {

    /** This shape as a ModelConfig, with {@code heads} when the file does not say and {@code dropout}. */
    public ModelConfig toModelConfig(int defaultHeads, double dropout) {
      return new ModelConfig(vocabSize, contextLength, dModel, layers, heads > 0 ? heads : defaultHeads, dropout);
    }
  }

  /**
   * Reads the shape of {@code file}: from {@code config.json} beside it, else the file's ringtrain
   * metadata, else the tensor shapes.
   *
   * @throws IllegalArgumentException for a config.json that is unreadable, lacks a field or names
   *                                  another activation
   * @throws SafetensorsException     for a corrupt or truncated file
   */
  public static Shape shape(Path file) throws IOException {
    SafetensorsReader.Contents contents = SafetensorsReader.inspect(file);
    Path config = file.toAbsolutePath().getParent().resolve(CONFIG_FILE);
    if (Files.isRegularFile(config)) {
      return fromJson(Files.readString(config), config.toString(), true);
    }
    String stored = contents.metadata().get(SafetensorsWriter.MODEL_CONFIG_KEY);
    if (stored != null) {
      return fromJson(stored, file + " metadata " + SafetensorsWriter.MODEL_CONFIG_KEY, false);
    }
    return fromTensors(contents, file);
  }

  /**
   * Checks {@code shape} against the run's model and names every field that differs.
   *
   * @throws IllegalArgumentException listing each mismatch as file value vs run value, with the
   *                                  settings that would match
   */
  public static void check(Shape shape, ModelConfig run, Path file) {
    List<String> diffs = new ArrayList<>();
    differ(diffs, "vocab_size", shape.vocabSize(), "vocabulary (tokenizer)", run.vocabSize());
    differ(diffs, "n_positions", shape.contextLength(), "contextLength", run.contextLength());
    differ(diffs, "n_embd", shape.dModel(), "dModel", run.dModel());
    differ(diffs, "n_layer", shape.layers(), "layers", run.layers());
    if (shape.heads() > 0) {
      differ(diffs, "n_head", shape.heads(), "heads", run.heads());
    }
    if (!diffs.isEmpty()) {
      throw new IllegalArgumentException(file + " holds another model shape than the run's (read from "
          + shape.source() + "): " + String.join("; ", diffs) + ". Set the run's contextLength, dModel, layers and"
          + " heads to the file's (vocab_size 50257 is the gpt2 tokenizer, 256 the byte one), or choose another file");
    }
  }

  /**
   * Checks {@code file} against {@code params}' model ({@link #check}) and loads its weights into
   * {@code params}. Nothing is written into {@code params} unless the shape, names, dtypes and
   * file size all check out; an untied head is refused after loading.
   *
   * @param params a float32 buffer laid out by {@link GptModel#layout} for {@code run}
   * @throws IllegalArgumentException for a shape mismatch or an untied head
   * @throws SafetensorsException     for a corrupt or truncated file, a missing tensor or another dtype
   */
  public static void load(Path file, ModelConfig run, ParameterBuffer params) throws IOException {
    check(shape(file), run, file);
    SafetensorsReader.Contents contents = SafetensorsReader.inspect(file);
    boolean prefixed = contents.find(PREFIX + "wte.weight") != null;
    new SafetensorsReader(params.layout(), name -> rename(name, prefixed)).read(file, params.flat());
    SafetensorsReader.TensorInfo head = contents.find(HEAD);
    if (head != null) {
      checkTied(file, head, params);
    }
  }

  /** A float32 GptModel of {@code run} holding the weights of {@code file}; the caller closes it. */
  public static GptModel model(Path file, ModelConfig run) throws IOException {
    GptModel model = new GptModel(run, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    try {
      load(file, run, model.params());
      return model;
    } catch (IOException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** The layout name of a file tensor, or null for what is not a parameter here. */
  private static String rename(String name, boolean prefixed) {
    String bare = prefixed && name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
    if (bare.equals(HEAD) || bare.endsWith(".attn.bias") || bare.endsWith(".attn.masked_bias")) {
      return null;
    }
    return bare;
  }

  private static void checkTied(Path file, SafetensorsReader.TensorInfo head, ParameterBuffer params)
      throws IOException {
    long[] wteShape = params.layout().get("wte.weight").shape();
    if (!"F32".equals(head.dtype()) || !Arrays.equals(head.shape(), wteShape)) {
      throw untied(file, "it is " + head.dtype() + Arrays.toString(head.shape()) + ", wte.weight is F32"
          + Arrays.toString(wteShape));
    }
    FloatBuffer wte = params.asByteBuffer().asFloatBuffer();
    long wteOffset = params.layout().get("wte.weight").offset();
    ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long done = 0;
      while (done < head.bytes()) {
        chunk.clear().limit((int) Math.min(chunk.capacity(), head.bytes() - done));
        while (chunk.hasRemaining()) {
          if (ch.read(chunk, head.fileOffset() + done + chunk.position()) < 0) {
            throw new SafetensorsException(file + " is truncated inside " + HEAD + "; use a complete copy");
          }
        }
        chunk.flip();
        FloatBuffer got = chunk.asFloatBuffer();
        long first = wteOffset + done / Float.BYTES;
        for (int i = 0; i < got.limit(); i++) {
          float a = got.get(i);
          float b = wte.get(Math.toIntExact(first + i));
          if (Float.floatToRawIntBits(a) != Float.floatToRawIntBits(b)) {
            throw untied(file, "element " + (done / Float.BYTES + i) + " is " + a + " in lm_head.weight and " + b
                + " in wte.weight");
          }
        }
        done += chunk.limit();
      }
    }
  }

  private static IllegalArgumentException untied(Path file, String detail) {
    return new IllegalArgumentException(file + " has an untied LM head: lm_head.weight must be absent or equal to"
        + " wte.weight, but " + detail + ". ringtrain's GPT ties the head to the token embedding; export the model"
        + " with tied weights (GPT-2's own checkpoints are) or drop lm_head.weight if it is meant to be wte");
  }

  private static Shape fromJson(String json, String source, boolean huggingFace) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(source + " is not valid JSON (" + e.getMessage()
          + "); expected a Hugging Face GPT2Config", e);
    }
    if (huggingFace && root.has("activation_function")
        && !ACTIVATION.equals(root.get("activation_function").asText())) {
      throw new IllegalArgumentException(source + ": activation_function must be \"" + ACTIVATION
          + "\" (GPT-2's tanh GELU, the one ringtrain computes), but found " + root.get("activation_function")
          + "; a model trained with another activation would give other outputs here");
    }
    return new Shape(field(root, "vocab_size", source), field(root, "n_positions", source),
        field(root, "n_embd", source), field(root, "n_layer", source), field(root, "n_head", source), source);
  }

  private static int field(JsonNode root, String name, String source) {
    JsonNode v = root.get(name);
    if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
      throw new IllegalArgumentException(source + ": expected a positive integer " + name + ", but found " + v
          + "; a GPT2Config holds vocab_size, n_positions, n_embd, n_layer and n_head");
    }
    return v.asInt();
  }

  private static Shape fromTensors(SafetensorsReader.Contents contents, Path file) throws SafetensorsException {
    boolean prefixed = contents.find(PREFIX + "wte.weight") != null;
    String p = prefixed ? PREFIX : "";
    SafetensorsReader.TensorInfo wte = contents.find(p + "wte.weight");
    SafetensorsReader.TensorInfo wpe = contents.find(p + "wpe.weight");
    if (wte == null || wpe == null || wte.shape().length != 2 || wpe.shape().length != 2) {
      throw new SafetensorsException(file + ": expected GPT-2 tensors wte.weight [V, C] and wpe.weight [T, C]"
          + " (bare or prefixed with " + PREFIX + "), found " + (wte == null ? "no wte.weight" : Arrays.toString(
          wte.shape())) + " and " + (wpe == null ? "no wpe.weight" : Arrays.toString(wpe.shape()))
          + "; is this a GPT-2 file?");
    }
    TreeSet<Integer> blocks = new TreeSet<>();
    for (SafetensorsReader.TensorInfo t : contents.tensors()) {
      String bare = t.name().startsWith(p + "h.") ? t.name().substring(p.length() + 2) : null;
      int dot = bare == null ? -1 : bare.indexOf('.');
      if (dot > 0 && bare.substring(0, dot).chars().allMatch(Character::isDigit)) {
        blocks.add(Integer.parseInt(bare.substring(0, dot)));
      }
    }
    return new Shape(Math.toIntExact(wte.shape()[0]), Math.toIntExact(wpe.shape()[0]),
        Math.toIntExact(wte.shape()[1]), blocks.size(), 0, "tensor shapes");
  }

  private static void differ(List<String> diffs, String fileName, int fileValue, String runName, int runValue) {
    if (fileValue != runValue) {
      diffs.add(fileName + " " + fileValue + " in the file, " + runName + " " + runValue + " in the run");
    }
  }
}
