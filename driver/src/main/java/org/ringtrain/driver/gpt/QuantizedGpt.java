/*
 * QuantizedGpt: a GPT whose matmul weights are int8 with one float32 scale per output channel,
 * read from the file `ringtrain quantize` writes, and the quantize step itself (checkpoint in,
 * file out, on any Hadoop FileSystem). It generates and is evaluated like a checkpoint; it cannot
 * be trained from or resumed (the float32 checkpoint reader refuses its file).
 */
package org.ringtrain.driver.gpt;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.checkpoint.CheckpointFormat;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.BatchDecoder;
import org.ringtrain.ops.gpt.BatchDecoding;
import org.ringtrain.ops.gpt.Generator;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.io.SafetensorsException;
import org.ringtrain.ops.io.SafetensorsReader;
import org.ringtrain.ops.io.TensorFile;
import org.ringtrain.ops.quant.Int8GptWeights;
import org.ringtrain.ops.quant.Int8ModelFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An int8 quantised GPT (scheme in {@link Int8ModelFile}), immutable once loaded: the file's bytes
 * stay in memory and every {@link #newWeights()} views them, so the float32 weights are never
 * rebuilt. The file's metadata carries what a checkpoint's state would: {@link #TRAIN_CONFIG_KEY},
 * {@link #TOKENIZER_KEY}, {@link #STEP_KEY} and {@link #SOURCE_KEY}.
 */
public final class QuantizedGpt implements InferenceGpt {

  private static final Logger LOG = LoggerFactory.getLogger(QuantizedGpt.class);

  /** Metadata key of the training run's config JSON. */
  public static final String TRAIN_CONFIG_KEY = "ringtrain.train_config";
  /** Metadata key of the tokenizer id. */
  public static final String TOKENIZER_KEY = "ringtrain.tokenizer";
  /** Metadata key of the source checkpoint's step. */
  public static final String STEP_KEY = "ringtrain.step";
  /** Metadata key of the source checkpoint's path. */
  public static final String SOURCE_KEY = "ringtrain.source_checkpoint";

  /**
   * What {@link #quantize} did.
   *
   * @param checkpoint the checkpoint read
   * @param step       its step
   * @param output     the file written
   * @param floatBytes size of the checkpoint's float32 model.safetensors
   * @param int8Bytes  size of the int8 file
   * @param embeddings whether the embeddings were quantised too
   */
  public record Summary(String checkpoint, long step, String output, long floatBytes, long int8Bytes,
      boolean embeddings) {
    /** int8 file size / float32 file size. */
    public double ratio() {
      return (double) int8Bytes / floatBytes;
    }
  }

  private final String path;
  private final byte[] file;
  private final TensorFile.Contents contents;
  private final TrainConfig config;
  private final Tokenizer tokenizer;
  private final ModelConfig modelConfig;
  private final long step;

  private QuantizedGpt(String path, byte[] file, TensorFile.Contents contents, TrainConfig config,
      Tokenizer tokenizer, long step) {
    this.path = path;
    this.file = file;
    this.contents = contents;
    this.config = config;
    this.tokenizer = tokenizer;
    this.modelConfig = config.modelConfig(tokenizer.vocabSize());
    this.step = step;
  }

  /**
   * Quantises the newest valid checkpoint of {@code checkpointDir} to {@code output}: every matmul
   * weight int8 per output channel, biases and layer norms float32, the embeddings int8 too when
   * {@code embeddings} (default false). Written to a temporary file next to {@code output}, then
   * renamed, so a failed run leaves no partial file.
   *
   * @throws IllegalArgumentException if {@code output} exists or the directory holds no valid checkpoint
   */
  public static Summary quantize(String checkpointDir, String output, boolean embeddings, HadoopSettings hadoop)
      throws IOException {
    Path out = new Path(output);
    FileSystem fs = hadoop.fs(out);
    if (fs.exists(out)) {
      throw new IllegalArgumentException("--output " + output + " already exists; choose another file name or"
          + " delete it first");
    }
    TrainedGpt model = TrainedGpt.load(checkpointDir, hadoop);
    Path floatFile = new Path(model.checkpoint(), CheckpointFormat.MODEL_FILE);
    long floatBytes = hadoop.fs(floatFile).getFileStatus(floatFile).getLen();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(TRAIN_CONFIG_KEY, model.config().toJson());
    meta.put(TOKENIZER_KEY, model.tokenizer().id());
    meta.put(STEP_KEY, Long.toString(model.step()));
    meta.put(SOURCE_KEY, model.checkpoint());
    Path tmp = new Path(out.getParent(), "." + out.getName() + ".tmp-" + UUID.randomUUID());
    LOG.info("quantising {} (step {}, {}) to int8{}", model.checkpoint(), model.step(), model.modelConfig(),
        embeddings ? " with the embeddings" : "");
    try (GptModel m = model.newModel()) {
      try (OutputStream os = fs.create(tmp, false)) {
        Int8ModelFile.write(model.modelConfig(), m.params(), embeddings, meta, os);
      }
      if (!fs.rename(tmp, out)) {
        throw new IOException("could not rename " + tmp + " to " + out + "; check that " + out.getParent()
            + " is writable and " + output + " was not created meanwhile");
      }
    } finally {
      fs.delete(tmp, false);
    }
    long int8Bytes = fs.getFileStatus(out).getLen();
    return new Summary(model.checkpoint(), model.step(), fs.makeQualified(out).toString(), floatBytes, int8Bytes,
        embeddings);
  }

  /**
   * Whether the file given as {@code --weights} is an int8 model (its safetensors metadata names a
   * quantisation scheme, {@link TensorFile#QUANTIZATION_KEY}); false for a float32 file such as a
   * Hugging Face GPT-2. Reads the header only.
   *
   * @throws IllegalArgumentException if the file is missing or not safetensors, saying why
   */
  public static boolean isInt8File(String path, HadoopSettings hadoop) throws IOException {
    Path p = new Path(path);
    FileSystem fs = hadoop.fs(p);
    if (!fs.exists(p) || fs.getFileStatus(p).isDirectory()) {
      throw new IllegalArgumentException("--weights " + path + " is not a file; give a GPT-2 safetensors file"
          + " (Hugging Face's model.safetensors) or the file written by `ringtrain quantize --output FILE`"
          + " (a checkpoint directory goes to --checkpoint-dir)");
    }
    try {
      return headerMetadata(fs, p, path).containsKey(TensorFile.QUANTIZATION_KEY);
    } catch (SafetensorsException e) {
      throw new IllegalArgumentException("--weights " + e.getMessage(), e);
    }
  }

  /**
   * The metadata of the safetensors header of {@code p}, read without its tensors; an int8 model
   * has {@link TensorFile#QUANTIZATION_KEY} (and {@link #SOURCE_KEY}) in it.
   *
   * @param name how messages name the file
   * @throws SafetensorsException when {@code p} is no safetensors file
   */
  static Map<String, String> headerMetadata(FileSystem fs, Path p, String name) throws IOException {
    try (InputStream in = fs.open(p)) {
      return SafetensorsReader.inspect(in, fs.getFileStatus(p).getLen(), name).metadata();
    }
  }

  /**
   * Loads an int8 model file written by {@link #quantize}, checking every tensor before use.
   *
   * @throws IllegalArgumentException if the file is missing, malformed or not an int8 model, saying why
   */
  public static QuantizedGpt load(String path, HadoopSettings hadoop) throws IOException {
    Path p = new Path(path);
    FileSystem fs = hadoop.fs(p);
    if (!fs.exists(p) || fs.getFileStatus(p).isDirectory()) {
      throw new IllegalArgumentException("--weights " + path + " is not a file; give the file written by"
          + " `ringtrain quantize --output FILE` (a checkpoint directory goes to --checkpoint-dir)");
    }
    FileStatus status = fs.getFileStatus(p);
    if (status.getLen() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("--weights " + path + " has " + status.getLen() + " bytes; int8 models of"
          + " over 2 GiB are not supported");
    }
    byte[] bytes;
    try (InputStream in = fs.open(p)) {
      bytes = in.readNBytes((int) status.getLen());
    }
    try {
      TensorFile.Contents contents = Int8ModelFile.read(new ByteArrayInputStream(bytes), status.getLen(), path);
      Map<String, String> meta = contents.metadata();
      for (String key : new String[] {TRAIN_CONFIG_KEY, TOKENIZER_KEY, STEP_KEY}) {
        if (!meta.containsKey(key)) {
          throw new SafetensorsException(path + ": metadata '" + key + "' is missing; expected the run's config,"
              + " tokenizer and step as `ringtrain quantize` writes them: quantise the checkpoint again");
        }
      }
      TrainConfig config = TrainConfig.fromJson(meta.get(TRAIN_CONFIG_KEY));
      Tokenizer tokenizer = Tokenizer.forId(meta.get(TOKENIZER_KEY));
      QuantizedGpt model = new QuantizedGpt(path, bytes, contents, config, tokenizer,
          Long.parseLong(meta.get(STEP_KEY)));
      model.newWeights().close(); // checks every tensor against the config now, not at first use
      return model;
    } catch (SafetensorsException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * Refuses to train into or from {@code checkpointDir} when it is an int8 model file, with a
   * message that says what the file is for; does nothing otherwise (the checkpoint store's own
   * checks follow).
   *
   * @throws IllegalArgumentException if {@code checkpointDir} is an int8 model file
   */
  public static void refuseTraining(String checkpointDir, HadoopSettings hadoop) throws IOException {
    Path p = new Path(checkpointDir);
    FileSystem fs = hadoop.fs(p);
    if (!fs.exists(p) || fs.getFileStatus(p).isDirectory()) {
      return;
    }
    String source;
    try (InputStream in = fs.open(p)) {
      source = Int8ModelFile.read(in, fs.getFileStatus(p).getLen(), checkpointDir).metadata().get(SOURCE_KEY);
    } catch (SafetensorsException notInt8) {
      return;
    }
    throw new IllegalArgumentException("checkpointDir " + checkpointDir + " is an int8 quantised model written by"
        + " `ringtrain quantize`: it serves generate/evaluate --weights only and cannot be trained from or resumed;"
        + " train or resume from the float32 checkpoint directory it was quantised from"
        + (source == null ? "" : " (" + source + ")"));
  }

  /** Fresh int8 weights over this model's values (they share the loaded arrays); the caller closes them. */
  public Int8GptWeights newWeights() throws SafetensorsException {
    return Int8ModelFile.weights(modelConfig, contents, path);
  }

  /** Size of the file in bytes. */
  public long fileBytes() {
    return file.length;
  }

  @Override
  public TrainConfig config() {
    return config;
  }

  @Override
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public ModelConfig modelConfig() {
    return modelConfig;
  }

  @Override
  public long step() {
    return step;
  }

  @Override
  public String source() {
    return path;
  }

  @Override
  public BatchDecoding newDecoder(int maxBatch) {
    try {
      return new BatchDecoder(newWeights(), maxBatch);
    } catch (SafetensorsException e) {
      throw new IllegalStateException("the int8 model " + path + " was checked at load and cannot fail now", e);
    }
  }

  @Override
  public String digest() {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  @Override
  public String generate(String prompt, int tokens, double temperature, int topK, long seed) {
    try (Int8GptWeights w = newWeights()) {
      return GptText.generate(tokenizer, w, prompt, tokens, temperature, topK, seed);
    } catch (SafetensorsException e) {
      throw new IllegalStateException("the int8 model " + path + " was checked at load and cannot fail now", e);
    }
  }

  @Override
  public SequenceScorer.Factory scorer() {
    ModelConfig mc = modelConfig;
    String source = path;
    return new SequenceScorer.Factory(file, payload -> scorer(mc, (byte[]) payload, source));
  }

  /**
   * Decoding through the KV cache on int8 weights, a Generator per batch size (the last batch of a
   * partition may be smaller). Static: the opener must not capture this object.
   */
  private static SequenceScorer scorer(ModelConfig mc, byte[] bytes, String source) throws IOException {
    Int8GptWeights w = Int8ModelFile.weights(mc, Int8ModelFile.read(new ByteArrayInputStream(bytes), bytes.length,
        source), source);
    Map<Integer, Generator> byBatch = new HashMap<>();
    return new SequenceScorer() {
      @Override
      public double lossSum(int[] inputs, int[] targets, int batch, int seqLen) {
        return byBatch.computeIfAbsent(batch, b -> new Generator(w, b)).lossSum(inputs, targets, seqLen);
      }

      @Override
      public void close() {
        byBatch.values().forEach(Generator::close);
        w.close();
      }
    };
  }
}
