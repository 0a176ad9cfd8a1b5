/*
 * Tests of LoopConfig and its parts read through FlatSettings: flat settings in, records by
 * concern out, and back; the messages of rejected settings. Test code only.
 */
package org.ringtrain.driver.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.config.FlatSettings;
import org.ringtrain.sync.LinkTransport;
import org.ringtrain.sync.RingProtection;
import org.ringtrain.sync.WireCodec;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class LoopConfigTest {

  private static Map<String, Object> settings(Object... keyValues) {
    Map<String, Object> m = new LinkedHashMap<>(LoopConfig.defaults());
    m.put("checkpointDir", "/tmp/run");
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  private static LoopConfig read(Object... keyValues) {
    return FlatSettings.read(LoopConfig.class, settings(keyValues), "train config");
  }

  @Test
  void flatSettingsLandInTheirConcernAndRoundTrip() {
    LoopConfig c = read("learningRate", 0.01, "ringCodec", "BF16", "ringTransport", "tcp", "keepCheckpoints", 5,
        "ringProtection", "Integrity");
    assertEquals(0.01, c.optimizer().learningRate());
    assertEquals(WireCodec.BF16, c.ring().ringCodec());
    assertEquals(LinkTransport.TCP, c.ring().ringTransport());
    assertEquals(5, c.checkpoints().keepCheckpoints());
    assertEquals(RingProtection.INTEGRITY, c.ring().ringProtection());
    assertEquals(RingProtection.NONE, read().ring().ringProtection(), "default");
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> read("ringProtection", "tls"));
    assertTrue(bad.getMessage().contains("ringProtection = tls; expected one of [none, integrity, encryption]"),
        bad.getMessage());
    Map<String, Object> flat = FlatSettings.write(c);
    assertEquals("bf16", flat.get("ringCodec"));
    assertEquals("integrity", flat.get("ringProtection"));
    assertEquals(c, FlatSettings.read(LoopConfig.class, flat, "train config"));
    assertEquals(c, FlatSettings.read(LoopConfig.class, FlatSettings.fromJson(FlatSettings.toJson(c), "x"), "x"));
    assertEquals("/tmp/run/metrics.jsonl", c.resolvedMetricsLog());
  }

  @Test
  void unknownSettingsAreRejectedListingTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read("learningRat", 0.1));
    assertTrue(e.getMessage().contains("unknown setting(s) [learningRat]"), e.getMessage());
    assertTrue(e.getMessage().contains("learningRate"), e.getMessage());
  }

  @Test
  void nonFiniteNumbersAreRejectedBeforeAnyWork() {
    for (String key : new String[] {"learningRate", "gradClip", "weightDecay", "peakGflopsPerRank"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> read(key, Double.POSITIVE_INFINITY), key);
      assertTrue(e.getMessage().startsWith("invalid train config: " + key + " = Infinity"), e.getMessage());
    }
  }

  @Test
  void crossChecksAndBadEnumsNameTheSetting() {
    IllegalArgumentException warmup = assertThrows(IllegalArgumentException.class,
        () -> read("steps", 10, "warmupSteps", 10));
    assertTrue(warmup.getMessage().contains("warmupSteps = 10; use 0 or more, fewer than steps=10"),
        warmup.getMessage());
    IllegalArgumentException codec = assertThrows(IllegalArgumentException.class, () -> read("ringCodec", "fp8"));
    assertTrue(codec.getMessage().contains("ringCodec = fp8; expected one of [fp32, bf16]"), codec.getMessage());
    Map<String, Object> noDir = settings();
    noDir.remove("checkpointDir");
    IllegalArgumentException dir = assertThrows(IllegalArgumentException.class,
        () -> FlatSettings.read(LoopConfig.class, noDir, "train config"));
    assertTrue(dir.getMessage().contains("checkpointDir = null; give a directory"), dir.getMessage());
  }

  @Test
  void divergenceSettingsDefaultToStopAndRejectAZeroSkipLimit() {
    assertEquals(new DivergenceSettings(DivergenceSettings.OnNonFinite.STOP, 5), read().divergence());
    LoopConfig skip = read("onNonFinite", "SKIP", "maxSkippedSteps", 2);
    assertEquals(new DivergenceSettings(DivergenceSettings.OnNonFinite.SKIP, 2), skip.divergence());
    assertEquals("skip", FlatSettings.write(skip).get("onNonFinite"));
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> read("maxSkippedSteps", 0));
    assertTrue(zero.getMessage().contains("maxSkippedSteps = 0; use 1 or more"), zero.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> read("onNonFinite", "ignore"));
    assertTrue(bad.getMessage().contains("onNonFinite = ignore; expected one of [stop, skip]"), bad.getMessage());
  }
}
