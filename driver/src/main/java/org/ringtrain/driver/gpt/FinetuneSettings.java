/*
 * FinetuneSettings: where a GPT run starts from (a GPT-2 safetensors file, or a fresh seeded
 * initialisation) and what it trains (every weight, or LoRA adapters beside frozen weights), as
 * one validated record of TrainConfig. It reads no file: BaseWeights checks and digests the base.
 */
package org.ringtrain.driver.gpt;

import static org.ringtrain.driver.config.Checks.orEmpty;
import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ringtrain.ops.lora.LoraConfig;

/**
 * Fine-tuning settings.
 *
 * @param initFrom    a GPT-2 safetensors file in Hugging Face form (or ringtrain's own
 *                    model.safetensors) to start from, on the local filesystem of the driver and
 *                    every executor (a path or a {@code file:} URI); default empty: a fresh seeded
 *                    initialisation. Its shape must equal the run's; the optimizer starts fresh at
 *                    step 0
 * @param finetune    {@code full} (default: every weight trains) or {@code lora} (the weights of
 *                    {@code initFrom} stay frozen and low-rank adapters train; needs initFrom)
 * @param loraRank    the adapters' rank r (default {@value LoraConfig#DEFAULT_RANK})
 * @param loraAlpha   the adapters' scale numerator, update scaled by alpha / r (default
 *                    {@value LoraConfig#DEFAULT_ALPHA})
 * @param loraTargets comma-separated layers that get adapters: any of {@code c_attn},
 *                    {@code attn.c_proj}, {@code c_fc}, {@code mlp.c_proj} (default
 *                    {@value LoraConfig#DEFAULT_TARGETS})
 * @param baseSha256  SHA-256 of the base weights (ParameterBuffer.sha256); default empty: the run
 *                    fills it in from initFrom and stores it in every checkpoint, so a resume on
 *                    other base weights is refused. Set it to insist on one exact base
 */
public record FinetuneSettings(String initFrom, Mode finetune, int loraRank, double loraAlpha, String loraTargets,
    String baseSha256) implements Serializable {

  /** What a run trains. */
  public enum Mode {
    /** Every weight. */
    FULL,
    /** LoRA adapters only; the base weights are frozen. */
    LORA
  }

  /** Every default, keyed by setting. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("initFrom", "");
    d.put("finetune", "full");
    d.put("loraRank", LoraConfig.DEFAULT_RANK);
    d.put("loraAlpha", LoraConfig.DEFAULT_ALPHA);
    d.put("loraTargets", LoraConfig.DEFAULT_TARGETS);
    d.put("baseSha256", "");
    return d;
  }

  /** Validates every field. */
  public FinetuneSettings {
    initFrom = orEmpty(initFrom);
    baseSha256 = orEmpty(baseSha256);
    require(finetune != null, "finetune", finetune, "use full or lora");
    require(initFrom.isEmpty() || !initFrom.contains("://") || initFrom.startsWith("file:"), "initFrom", initFrom,
        "give a local path (or file: URI) that the driver and every executor can read; copy the file from "
            + "HDFS or object storage to each host first");
    require(finetune == Mode.FULL || !initFrom.isEmpty(), "initFrom", "(none)",
        "finetune=lora trains adapters beside frozen pretrained weights: give them with --init-from PATH");
    require(baseSha256.isEmpty() || baseSha256.matches("[0-9a-f]{64}"), "baseSha256", baseSha256,
        "use 64 lower-case hex digits, or leave it empty to have the run fill it in");
    new LoraConfig(loraRank, loraAlpha, LoraConfig.parseTargets(loraTargets)); // validates the three
  }

  /** Whether the run trains LoRA adapters. */
  public boolean lora() {
    return finetune == Mode.LORA;
  }

  /** The adapters' shape. */
  public LoraConfig loraConfig() {
    return new LoraConfig(loraRank, loraAlpha, LoraConfig.parseTargets(loraTargets));
  }

  /** {@link #initFrom} as a local path. */
  public Path initFromPath() {
    return initFrom.startsWith("file:") ? Path.of(java.net.URI.create(initFrom)) : Path.of(initFrom);
  }
}
