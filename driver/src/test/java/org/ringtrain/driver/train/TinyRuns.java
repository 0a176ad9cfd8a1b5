/*
 * TinyRuns: what the training loop's Spark tests share: the vocabulary and context of their tiny
 * GPTs, their training rows (windows of token ids a small model can learn), and a LoopConfig built
 * from LoopConfig's defaults, the settings every such test uses and its own. Test code only; it
 * starts nothing (each test class starts its own local SparkContext through LocalSpark).
 */
package org.ringtrain.driver.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.ringtrain.driver.config.FlatSettings;
import org.ringtrain.ops.gpt.ModelConfig;

final class TinyRuns {
  static final int VOCAB = 64;
  static final int T = 8;

  private TinyRuns() {
  }

  /** A GPT of the tests' vocabulary and context, 2 heads, no dropout. */
  static ModelConfig model(int dModel, int layers) {
    return new ModelConfig(VOCAB, T, dModel, layers, 2, 0.0);
  }

  /**
   * Rows {@code from..from+count-1} of T+1 token ids each, {@code (i * 7 + j * 3) % VOCAB}, plus
   * {@code spike} at every fourth position (0 for none).
   */
  static JavaRDD<int[]> rows(JavaSparkContext sc, int from, int count, int partitions, int spike) {
    List<int[]> rows = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      int[] s = new int[T + 1];
      for (int j = 0; j <= T; j++) {
        s[j] = (i * 7 + j * 3 + (j % 4 == 0 ? spike : 0)) % VOCAB;
      }
      rows.add(s);
    }
    return sc.parallelize(rows, partitions);
  }

  /**
   * LoopConfig's defaults, then 1 MiB buckets and a 60 s ring timeout, then {@code settings}, then
   * the key/value pairs of {@code more}.
   */
  static LoopConfig config(Map<String, Object> settings, Object... more) {
    Map<String, Object> m = new LinkedHashMap<>(LoopConfig.defaults());
    m.put("bucketMb", 1);
    m.put("ringTimeoutSeconds", 60);
    m.putAll(settings);
    for (int i = 0; i < more.length; i += 2) {
      m.put((String) more[i], more[i + 1]);
    }
    return FlatSettings.read(LoopConfig.class, m, "test config");
  }
}
