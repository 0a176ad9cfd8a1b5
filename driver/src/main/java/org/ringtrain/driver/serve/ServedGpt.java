/*
 * ServedGpt: a GPT behind the server - its tokenizer, its weights (float32 from a checkpoint or a
 * Hugging Face file, or int8 from `ringtrain quantize`) in a BatchDecoding and the scheduler that
 * batches its decode steps. It does not load models (see InferenceGpt) and does not parse HTTP
 * (see GenerateRoute).
 */
package org.ringtrain.driver.serve;

import java.util.LinkedHashMap;
import java.util.Map;
import org.ringtrain.driver.gpt.InferenceGpt;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.gpt.BatchDecoding;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

/** A GPT served under a name. */
final class ServedGpt implements AutoCloseable {
  private final String name;
  private final InferenceGpt trained;
  private final String digest;
  private final BatchDecoding decoder;
  private final GenerationScheduler scheduler;

  ServedGpt(String name, InferenceGpt trained, ServeSettings settings, ServeMetrics metrics) {
    this.name = name;
    this.trained = trained;
    this.digest = trained.digest();
    this.decoder = trained.newDecoder(settings.maxBatch());
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
    m.put("source", trained.source());
    m.put("step", trained.step());
    m.put("tokenizer", trained.tokenizer().id());
    m.put("shape", Map.of("vocab_size", c.vocabSize(), "context_length", c.contextLength(), "d_model", c.dModel(),
        "layers", c.layers(), "heads", c.heads()));
    m.put("parameters", GptModel.layout(c).totalElements());
    m.put("digest", digest);
    return m;
  }

  @Override
  public void close() throws InterruptedException {
    scheduler.close();
    decoder.close();
  }
}
