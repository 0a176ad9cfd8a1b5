/*
 * ServedGpt: a trained GPT behind the server - its tokenizer, its weights in a BatchDecoder and the
 * scheduler that batches its decode steps. It loads from a checkpoint directory without Spark and
 * does not parse HTTP (see GenerateRoute).
 */
package org.ringtrain.driver.serve;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.BatchDecoder;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

/** A GPT served under a name. */
final class ServedGpt implements AutoCloseable {
  private final String name;
  private final TrainedGpt trained;
  private final String digest;
  private final GptModel model;
  private final BatchDecoder decoder;
  private final GenerationScheduler scheduler;

  ServedGpt(String name, TrainedGpt trained, ServeSettings settings, ServeMetrics metrics) {
    this.name = name;
    this.trained = trained;
    this.digest = sha256(trained.weights());
    this.model = trained.newModel();
    this.decoder = new BatchDecoder(model, settings.maxBatch());
    this.scheduler = new GenerationScheduler(decoder, settings.queueCapacity(), metrics, name);
  }

  String name() {
    return name;
  }

  Tokenizer tokenizer() {
    return trained.tokenizer();
  }

  ModelConfig config() {
    return trained.modelConfig();
  }

  GenerationScheduler scheduler() {
    return scheduler;
  }

  /** What /v1/models says about this model. */
  Map<String, Object> info() {
    ModelConfig c = trained.modelConfig();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("kind", "gpt");
    m.put("source", trained.checkpoint());
    m.put("step", trained.step());
    m.put("tokenizer", trained.tokenizer().id());
    m.put("shape", Map.of("vocab_size", c.vocabSize(), "context_length", c.contextLength(), "d_model", c.dModel(),
        "layers", c.layers(), "heads", c.heads()));
    m.put("parameters", GptModel.layout(c).totalElements());
    m.put("digest", digest);
    return m;
  }

  /** "sha256:" and the hex SHA-256 of the weights as little-endian float32, in layout order. */
  static String sha256(float[] weights) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (float w : weights) {
        if (!buf.hasRemaining()) {
          md.update(buf.flip());
          buf.clear();
        }
        buf.putFloat(w);
      }
      md.update(buf.flip());
      return "sha256:" + HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  @Override
  public void close() throws InterruptedException {
    scheduler.close();
    for (AutoCloseable c : List.<AutoCloseable>of(decoder, model)) {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException("closing model " + name + " failed", e);
      }
    }
  }
}
