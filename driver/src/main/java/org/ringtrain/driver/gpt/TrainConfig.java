/*
 * TrainConfig: the run config of the GPT train job: what is GPT-specific (the corpus, its format
 * and tokenizer, the model's shape) plus the model-agnostic LoopConfig it hands to the
 * data-parallel trainer. It is what `train` resolves from conf/ files and flags, what the driver
 * logs once, and what every GPT checkpoint stores (as flat JSON, the same keys since the first
 * format). It knows nothing about Spark.
 */
package org.ringtrain.driver.gpt;

import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ringtrain.driver.config.FlatSettings;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.tokenize.TokenizerKind;
import org.ringtrain.driver.train.LoopConfig;
import org.ringtrain.ops.gpt.ModelConfig;

/**
 * A GPT training run's configuration. Build it from key/value layers with {@link #fromLayers};
 * every field is checked in the compact constructors (here and in {@link LoopConfig}'s parts),
 * and a bad value is rejected with a message that names the setting, the value and what to do.
 *
 * @param input              corpus path on any Hadoop FileSystem (file, directory or glob); required
 * @param format             {@code text} (default) or {@code shards} (llm.c uint16 token shards)
 * @param tokenizer          {@code byte} (default, vocab 256) or {@code gpt2} (BPE, vocab 50257)
 * @param validationFraction share of sequences held out for validation (default 0.05)
 * @param contextLength      tokens per sequence, T (default 128)
 * @param dModel             embedding width, C (default 128)
 * @param layers             Transformer blocks, L (default 4)
 * @param heads              attention heads, NH (default 4); must divide dModel
 * @param dropout            dropout probability in [0, 1) on the embeddings, attention probabilities
 *                           and residual branches during training (default 0, as for pretraining;
 *                           0.1 for fine-tuning or a small corpus); evaluation never drops
 * @param recompute          activation recomputation (default false): each block keeps only its input
 *                           during forward and recomputes its other activations just before its
 *                           backward; one more forward pass of the blocks for most of their activation
 *                           memory, with bit-for-bit the same gradients (docs/memory.md)
 * @param finetune           where the run starts (a GPT-2 file via {@code initFrom}, or a fresh
 *                           initialisation) and what trains (every weight, or LoRA adapters); see
 *                           {@link FinetuneSettings} for each setting and default
 * @param loop               the training loop: ranks, batches, steps, optimizer, checkpoints, metrics,
 *                           ring, threads (see {@link LoopConfig} for each setting and default)
 */
public record TrainConfig(
    String input,
    DatasetSpec.Format format,
    TokenizerKind tokenizer,
    double validationFraction,
    int contextLength,
    int dModel,
    int layers,
    int heads,
    double dropout,
    boolean recompute,
    FinetuneSettings finetune,
    LoopConfig loop) implements Serializable {

  private static final String WHAT = "train config";

  /** Every default, keyed by flat setting; {@code input} and {@code checkpointDir} have none. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("format", "text");
    d.put("tokenizer", "byte");
    d.put("validationFraction", 0.05);
    d.put("contextLength", 128);
    d.put("dModel", 128);
    d.put("layers", 4);
    d.put("heads", 4);
    d.put("dropout", ModelConfig.DEFAULT_DROPOUT);
    d.put("recompute", false);
    d.putAll(FinetuneSettings.defaults());
    d.putAll(LoopConfig.defaults());
    return d;
  }

  /** Validates the GPT settings; {@link LoopConfig} validates its own. */
  public TrainConfig {
    require(input != null && !input.isBlank(), "input", input, "give the corpus path, e.g. --input data/moby-dick.txt");
    require(format != null, "format", format, "use text or shards");
    require(tokenizer != null, "tokenizer", tokenizer, "use byte or gpt2");
    require(validationFraction >= 0 && validationFraction < 0.5, "validationFraction", validationFraction,
        "use a value in [0, 0.5)");
    require(contextLength >= 2, "contextLength", contextLength, "a model needs at least 2 tokens of context");
    require(dModel > 0, "dModel", dModel, "use a positive width");
    require(layers > 0, "layers", layers, "use at least 1 layer");
    require(heads > 0 && dModel % heads == 0, "heads", heads,
        "heads must divide dModel=" + dModel + ", e.g. " + divisorNear(dModel, heads));
    require(dropout >= 0 && dropout < 1, "dropout", dropout, "use a probability in [0, 1): 0 turns it off, 0.1 is usual");
    require(finetune != null && loop != null, "loop", null, "build a TrainConfig with fromLayers");
  }

  /**
   * Resolves a config from layers of flat key/value settings applied in order (defaults first, then
   * a conf/ file, then command-line flags); later layers win. Unknown keys are rejected.
   */
  @SafeVarargs
  public static TrainConfig fromLayers(Map<String, ?>... layers) {
    Map<String, Object> merged = new LinkedHashMap<>(defaults());
    for (Map<String, ?> layer : layers) {
      merged.putAll(layer);
    }
    return FlatSettings.read(TrainConfig.class, merged, WHAT);
  }

  /** The model this config trains, for a tokenizer with {@code vocabSize} tokens. */
  public ModelConfig modelConfig(int vocabSize) {
    return new ModelConfig(vocabSize, contextLength, dModel, layers, heads, dropout);
  }

  /** Tokens every optimizer step consumes across all ranks. */
  public long tokensPerStep() {
    return loop.rowsPerStep() * contextLength;
  }

  /** This config as flat JSON (written into every checkpoint). */
  public String toJson() {
    return FlatSettings.toJson(this);
  }

  /**
   * A config from {@link #toJson()}. Settings the JSON lacks (it may come from a checkpoint written
   * before they existed) take their defaults, except that a stored {@code keepCheckpoints=1}
   * without {@code unsafeKeepOne} reads as {@code unsafeKeepOne=true}.
   */
  public static TrainConfig fromJson(String json) {
    Map<String, Object> stored = FlatSettings.fromJson(json, WHAT);
    // Checkpoints written before unsafeKeepOne existed could keep one checkpoint without it; the
    // default (false) would now reject their stored config, so such a checkpoint could no longer be
    // loaded or resumed. The run that wrote it already chose to keep one: keep that choice.
    if (stored.get("keepCheckpoints") instanceof Number keep && keep.longValue() == 1
        && !stored.containsKey("unsafeKeepOne")) {
      stored.put("unsafeKeepOne", true);
    }
    return fromLayers(stored);
  }

  /** This config with the flat setting {@code key} set to {@code value} (re-validated). */
  public TrainConfig with(String key, Object value) {
    return fromLayers(FlatSettings.write(this), Map.of(key, value));
  }

  private static int divisorNear(int d, int heads) {
    for (int delta = 0; delta < d; delta++) {
      if (heads - delta > 0 && d % (heads - delta) == 0) {
        return heads - delta;
      }
      if (d % (heads + delta) == 0) {
        return heads + delta;
      }
    }
    return 1;
  }
}
