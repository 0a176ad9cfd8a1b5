// The benchmark's training data: byte tokens of a text file (or seeded random
// bytes) packed into sequences of ctx+1 tokens, the same sequences for every
// scenario, split into worldSize equal partitions on demand.
package org.ringtrain.bench.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/** Byte-token sequences for both scenarios. */
final class BenchData {
  static final int VOCAB = 256;
  /** Enough for 32 steps of 4096 tokens without repeating a sequence, and small enough to ship in a task. */
  static final int MAX_TRAIN_SEQUENCES = 512;
  static final int VALIDATION_SEQUENCES = 4;

  private final List<int[]> train;
  private final List<int[]> validation;
  private final String source;

  private BenchData(List<int[]> train, List<int[]> validation, String source) {
    this.train = train;
    this.validation = validation;
    this.source = source;
  }

  /** Sequences of {@code context + 1} byte tokens from {@code data} (a file, or "synthetic"). */
  static BenchData load(String data, int context) throws IOException {
    byte[] bytes;
    String source;
    if ("synthetic".equals(data)) {
      bytes = new byte[(MAX_TRAIN_SEQUENCES + VALIDATION_SEQUENCES) * (context + 1)];
      new Random(1337).nextBytes(bytes);
      source = "synthetic (seeded random bytes)";
    } else {
      bytes = Files.readAllBytes(Path.of(data));
      source = data + " (" + bytes.length + " bytes)";
    }
    int length = context + 1;
    int count = bytes.length / length;
    if (count < VALIDATION_SEQUENCES + 2) {
      throw new IllegalArgumentException(data + " holds " + count + " sequences of " + length
          + " bytes; the benchmark needs at least " + (VALIDATION_SEQUENCES + 2));
    }
    int trainCount = Math.min(MAX_TRAIN_SEQUENCES, (count - VALIDATION_SEQUENCES) / 2 * 2); // even: 1 or 2 ranks
    List<int[]> all = new ArrayList<>(trainCount + VALIDATION_SEQUENCES);
    for (int s = 0; s < trainCount + VALIDATION_SEQUENCES; s++) {
      int[] seq = new int[length];
      int base = s * length;
      for (int j = 0; j < length; j++) {
        seq[j] = bytes[base + j] & 0xFF;
      }
      all.add(seq);
    }
    return new BenchData(all.subList(0, trainCount), all.subList(trainCount, all.size()), source);
  }

  JavaRDD<int[]> train(JavaSparkContext sc, int worldSize) {
    return sc.parallelize(new ArrayList<>(train), worldSize);
  }

  JavaRDD<int[]> validation(JavaSparkContext sc, int worldSize) {
    return sc.parallelize(new ArrayList<>(validation), worldSize);
  }

  String describe() {
    return source + ": " + train.size() + " training and " + validation.size() + " validation sequences";
  }
}
