// TrainConfig: layering, validation messages, and reading configs stored in
// older checkpoints.
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.sync.LinkTransport;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class TrainConfigTest {
  private static final Map<String, Object> REQUIRED = Map.of("input", "corpus.txt", "checkpointDir", "runs/a");

  @Test
  void laterLayersWinAndDefaultsFillTheRest() {
    TrainConfig cfg = TrainConfig.fromLayers(REQUIRED, Map.of("steps", 50, "heads", 8), Map.of("steps", "70"));
    assertEquals(70, cfg.loop().steps());
    assertEquals(8, cfg.heads());
    assertEquals(128, cfg.dModel());
    assertEquals("runs/a/metrics.jsonl", cfg.loop().resolvedMetricsLog());
    assertEquals("runs/a/tensorboard", cfg.loop().resolvedTensorboardDir());
  }

  @Test
  void recomputeIsOffByDefaultAndReadFromYamlValuesFlagStringsAndStoredJson() {
    assertFalse(TrainConfig.fromLayers(REQUIRED).recompute());
    TrainConfig on = TrainConfig.fromLayers(REQUIRED, Map.of("recompute", "true"));
    assertTrue(on.recompute());
    assertTrue(TrainConfig.fromJson(on.toJson()).recompute());
    assertFalse(on.with("recompute", false).recompute());
  }

  @Test
  void fineTuningSettingsDefaultToAFreshFullRunAndRefuseLoraWithoutBaseOrWithBadTargets() {
    TrainConfig plain = TrainConfig.fromLayers(REQUIRED);
    assertEquals("", plain.finetune().initFrom());
    assertFalse(plain.finetune().lora());
    TrainConfig lora = TrainConfig.fromLayers(REQUIRED, Map.of("initFrom", "/m/model.safetensors", "finetune", "LoRA",
        "loraRank", "4", "loraTargets", "c_fc,c_attn"));
    assertEquals("attn.c_attn,mlp.c_fc", lora.finetune().loraConfig().targetNames());
    assertEquals(lora, TrainConfig.fromJson(lora.toJson()));
    IllegalArgumentException noBase = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(REQUIRED, Map.of("finetune", "lora")));
    assertTrue(noBase.getMessage().contains("--init-from PATH"), noBase.getMessage());
    IllegalArgumentException target = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(REQUIRED, Map.of("loraTargets", "c_proj")));
    assertTrue(target.getMessage().contains("say attn.c_proj or mlp.c_proj"), target.getMessage());
    IllegalArgumentException remote = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(REQUIRED, Map.of("initFrom", "hdfs:///models/gpt2.safetensors")));
    assertTrue(remote.getMessage().contains("local path"), remote.getMessage());
  }

  @Test
  void invalidValuesAreRejectedNamingFieldValueAndRemedy() {
    IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(REQUIRED, Map.of("heads", 5)));
    assertTrue(heads.getMessage().contains("heads = 5; heads must divide dModel=128, e.g. 4"), heads.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(REQUIRED, Map.of("stpes", 5)));
    assertTrue(unknown.getMessage().contains("stpes") && unknown.getMessage().contains("known settings"),
        unknown.getMessage());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(Map.of("input", "corpus.txt")));
    assertTrue(missing.getMessage().contains("checkpointDir"), missing.getMessage());
    IllegalArgumentException transport = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(REQUIRED, Map.of("ringTransport", "rdma")));
    assertTrue(transport.getMessage().contains("ringTransport = rdma; expected one of [auto, tcp]"), transport.getMessage());
    IllegalArgumentException socketDir = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(REQUIRED, Map.of("ringSocketDir", "relative/dir")));
    assertTrue(socketDir.getMessage().contains("absolute local path"), socketDir.getMessage());
    assertEquals(LinkTransport.TCP, TrainConfig.fromLayers(REQUIRED, Map.of("ringTransport", "TCP")).loop().ring()
        .ringTransport());
  }

  @Test
  void dropoutDefaultsToZeroReachesTheModelAndIsCheckedToBeAProbability() {
    assertEquals(0.0, TrainConfig.fromLayers(REQUIRED).modelConfig(256).dropout(), "pretraining default");
    TrainConfig cfg = TrainConfig.fromLayers(REQUIRED, Map.of("dropout", "0.1"));
    assertEquals(0.1, cfg.modelConfig(256).dropout());
    assertEquals(cfg, TrainConfig.fromJson(cfg.toJson()), "stored in the checkpoint's config");
    IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromLayers(REQUIRED, Map.of("dropout", 1.0)));
    assertTrue(one.getMessage().contains("dropout = 1.0; use a probability in [0, 1)"), one.getMessage());
    String old = TrainConfig.fromLayers(REQUIRED).toJson().replace(",\"dropout\":0.0", "");
    assertTrue(!old.contains("dropout"), old);
    assertEquals(0.0, TrainConfig.fromJson(old).dropout(), "a checkpoint from before dropout existed");
  }

  @Test
  void aConfigStoredBeforeNewerSettingsExistedLoadsWithTheirDefaults() {
    TrainConfig cfg = TrainConfig.fromLayers(REQUIRED, Map.of("steps", 90));
    String json = cfg.toJson().replace(",\"tensorboardDir\":\"\"", "").replace(",\"peakGflopsPerRank\":0.0", "");
    assertTrue(!json.contains("tensorboardDir") && !json.contains("peakGflopsPerRank"), json);
    assertEquals(cfg, TrainConfig.fromJson(json));
  }

  @Test
  void aStoredKeepOfOneWrittenBeforeUnsafeKeepOneExistedStillLoads() {
    TrainConfig cfg = TrainConfig.fromLayers(REQUIRED, Map.of("keepCheckpoints", 1, "unsafeKeepOne", true));
    String old = cfg.toJson().replace(",\"unsafeKeepOne\":true", "");
    assertTrue(!old.contains("unsafeKeepOne") && old.contains("\"keepCheckpoints\":1"), old);
    TrainConfig loaded = TrainConfig.fromJson(old);
    assertEquals(1, loaded.loop().checkpoints().keepCheckpoints());
    assertTrue(loaded.loop().checkpoints().unsafeKeepOne(), "a stored keep of one implies the old permission");
    assertEquals(cfg, loaded);

    String explicit = cfg.toJson().replace("\"unsafeKeepOne\":true", "\"unsafeKeepOne\":false");
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromJson(explicit));
    assertTrue(refused.getMessage().contains("keepCheckpoints = 1"), refused.getMessage());

    String three = TrainConfig.fromLayers(REQUIRED).toJson().replace(",\"unsafeKeepOne\":false", "");
    assertTrue(!three.contains("unsafeKeepOne"), three);
    assertFalse(TrainConfig.fromJson(three).loop().checkpoints().unsafeKeepOne());
  }
}
