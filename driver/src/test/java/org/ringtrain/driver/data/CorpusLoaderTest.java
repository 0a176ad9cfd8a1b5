// Tests of CorpusLoader in a local[2] Spark context: exact packing, global order, directory
// and glob inputs, the validation split, equal partitions, the logged remainder, determinism
// and the errors raised before training. Shard input is tested in TokenShardsTest.
package org.ringtrain.driver.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.InputFiles;
import org.ringtrain.driver.tokenize.ByteTokenizer;
import org.ringtrain.driver.tokenize.Gpt2Tokenizer;

@Timeout(60)
class CorpusLoaderTest {

  private static JavaSparkContext sc;

  @TempDir Path dir;

  @BeforeAll
  static void startSpark() {
    sc = CorpusFixtures.localSpark("CorpusLoaderTest");
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  private static DatasetSpec spec(Path path, int ctx, double fraction, int worldSize) {
    return new DatasetSpec(path.toUri().toString(), DatasetSpec.Format.TEXT, "byte", ctx,
        fraction, worldSize);
  }

  /** Partition r's sequences, in order. */
  static List<List<int[]>> partitions(JavaRDD<int[]> rdd) {
    return rdd.glom().collect();
  }

  private static int[] range(int start, int length) {
    int[] t = new int[length];
    for (int i = 0; i < length; i++) {
      t[i] = (start + i) & 0xFF;
    }
    return t;
  }

  @Test
  void packsEachFileWithStrideTInSortedPathOrderAndSplitsIntoRankBlocks() throws Exception {
    // T=4. a: 23 tokens -> 5 sequences; b: 4 tokens -> none; c: 13 tokens -> 3 sequences.
    // The files are written out of order: the loader sorts by path.
    CorpusFixtures.write(dir.resolve("c.txt"), CorpusFixtures.counting(13, 200));
    CorpusFixtures.write(dir.resolve("a.txt"), CorpusFixtures.counting(23, 0));
    CorpusFixtures.write(dir.resolve("b.txt"), CorpusFixtures.counting(4, 100));
    TrainingData data = CorpusLoader.load(sc, spec(dir, 4, 0.0, 2));

    assertEquals(40, data.corpusTokens());
    assertEquals(8, data.totalSequences());
    assertEquals(3, data.fileCount());
    assertEquals(8, data.trainSequences());
    assertEquals(0, data.droppedSequences());
    List<List<int[]>> train = partitions(data.train());
    assertEquals(2, train.size());
    int[][] rank0 = {range(0, 5), range(4, 5), range(8, 5), range(12, 5)};
    int[][] rank1 = {range(16, 5), range(200, 5), range(204, 5), range(208, 5)};
    assertArrayEquals(rank0, train.get(0).toArray(new int[0][]));
    assertArrayEquals(rank1, train.get(1).toArray(new int[0][]));

    assertEquals(0, data.validationPerRank());
    List<List<int[]>> validation = partitions(data.validation());
    assertEquals(2, validation.size());
    assertTrue(validation.get(0).isEmpty() && validation.get(1).isEmpty());

    // Same corpus, same spec: same partitions.
    TrainingData again = CorpusLoader.load(sc, spec(dir, 4, 0.0, 2));
    List<List<int[]>> train2 = partitions(again.train());
    for (int r = 0; r < 2; r++) {
      assertArrayEquals(train.get(r).toArray(new int[0][]), train2.get(r).toArray(new int[0][]));
    }
    data.unpersist();
    again.unpersist();
  }

  @Test
  void holdsOutTheLastSequencesAndLogsTheDroppedRemainder() throws Exception {
    // 825 tokens at T=8: 103 sequences. 10% = 10 held out; over 4 ranks 2 validation per rank
    // (the last 8) and 2 dropped; training the first 93, in partitions of 24, 24, 24 and 21.
    CorpusFixtures.write(dir.resolve("one.txt"), CorpusFixtures.counting(103 * 8 + 1, 0));
    TrainingData data;
    try (CorpusFixtures.LogCapture log = new CorpusFixtures.LogCapture(CorpusLoader.class)) {
      data = CorpusLoader.load(sc, spec(dir, 8, 0.10, 4));
      assertTrue(log.messages().stream().anyMatch(m ->
              m.startsWith("dropped 2 held-out sequences (global 93..94)")
                  && m.contains("worldSize=4") && m.contains("validationPerRank=2")),
          "log: " + log.messages());
    }
    assertEquals(103, data.totalSequences());
    assertEquals(93, data.trainSequences());
    assertEquals(2, data.validationPerRank());
    assertEquals(2, data.droppedSequences());
    assertEquals(4, data.train().getNumPartitions());
    assertEquals(4, data.validation().getNumPartitions());

    List<List<int[]>> train = partitions(data.train());
    List<List<int[]>> validation = partitions(data.validation());
    for (int r = 0; r < 4; r++) {
      int rows = r < 3 ? 24 : 21;
      assertEquals(rows, train.get(r).size(), "train partition " + r);
      assertEquals(2, validation.get(r).size(), "validation rank " + r);
      for (int j = 0; j < rows; j++) {
        assertArrayEquals(range((r * 24 + j) * 8, 9), train.get(r).get(j), "train " + r + "/" + j);
      }
      for (int j = 0; j < 2; j++) {
        assertArrayEquals(range((95 + r * 2 + j) * 8, 9), validation.get(r).get(j),
            "validation " + r + "/" + j);
      }
    }
    data.unpersist();
  }

  @Test
  void readsDirectoriesRecursivelySkippingHiddenFilesAndGlobs() throws Exception {
    Path root = dir.resolve("corpus");
    CorpusFixtures.write(root.resolve("x/1.txt"), CorpusFixtures.counting(11, 0));
    CorpusFixtures.write(root.resolve("y/2.txt"), CorpusFixtures.counting(21, 50));
    CorpusFixtures.write(root.resolve("y/2.md"), CorpusFixtures.counting(31, 150));
    CorpusFixtures.write(root.resolve("_SUCCESS"), new byte[0]);
    CorpusFixtures.write(root.resolve("x/.1.txt.crc"), CorpusFixtures.counting(99, 0));
    CorpusFixtures.write(root.resolve("x/_temporary/3.txt"), CorpusFixtures.counting(99, 0));

    TrainingData all = CorpusLoader.load(sc, spec(root, 5, 0.0, 1));
    assertEquals(3, all.fileCount());
    assertEquals(11 + 21 + 31, all.corpusTokens());
    assertEquals(2 + 4 + 6, all.trainSequences());
    // Sorted by path: x/1.txt, y/2.md, y/2.txt.
    List<int[]> seqs = partitions(all.train()).get(0);
    assertArrayEquals(range(0, 6), seqs.get(0));
    assertArrayEquals(range(150, 6), seqs.get(2));
    assertArrayEquals(range(50, 6), seqs.get(8));

    String glob = root.toUri().toString() + "*/*.txt";
    TrainingData txt = CorpusLoader.load(sc,
        new DatasetSpec(glob, DatasetSpec.Format.TEXT, "byte", 5, 0.0, 2));
    assertEquals(2, txt.fileCount());
    assertEquals(32, txt.corpusTokens());
    assertEquals(6, txt.trainSequences());
    // A bare * also matches _SUCCESS, .1.txt.crc and _temporary/: skipped as hidden.
    List<String> star = InputFiles.resolve(sc.hadoopConfiguration(), root.toUri() + "*/*")
        .stream().map(s -> root.toUri().relativize(s.getPath().toUri()).toString()).toList();
    assertEquals(List.of("x/1.txt", "y/2.md", "y/2.txt"), star);
    TrainingData starData = CorpusLoader.load(sc, new DatasetSpec(root.toUri() + "*/*",
        DatasetSpec.Format.TEXT, "byte", 5, 0.0, 1));
    assertEquals(3, starData.fileCount(), () -> "resolved " + star);
    assertEquals(all.corpusTokens(), starData.corpusTokens());
    starData.unpersist();
    TrainingData single = CorpusLoader.load(sc, spec(root.resolve("y/2.txt"), 5, 0.0, 1));
    assertEquals(1, single.fileCount());
    assertEquals(4, single.trainSequences());
    all.unpersist();
    txt.unpersist();
    single.unpersist();
  }

  @Test
  void tokenizesWithGpt2OnTheExecutors() throws Exception {
    String text = "Call me Ishmael. Some years ago, never mind how long precisely, having little"
        + " or no money in my purse, and nothing particular to interest me on shore.";
    CorpusFixtures.write(dir.resolve("t.txt"), text.getBytes(StandardCharsets.UTF_8));
    int[] expected = Gpt2Tokenizer.INSTANCE.encode(text.getBytes(StandardCharsets.UTF_8));
    DatasetSpec spec = spec(dir, 4, 0.0, 1).withTokenizerId("gpt2");
    TrainingData data = CorpusLoader.load(sc, spec);
    assertEquals(expected.length, data.corpusTokens());
    assertEquals("gpt2", data.tokenizer().id());
    List<int[]> seqs = partitions(data.train()).get(0);
    assertEquals(SequencePacker.sequenceCount(expected.length, 4), seqs.size());
    for (int i = 0; i < seqs.size(); i++) {
      assertArrayEquals(SequencePacker.sequence(expected, i, 4), seqs.get(i));
    }
    data.unpersist();
  }

  @Test
  void missingPathIsRefusedBeforeAnyJob() {
    Path missing = dir.resolve("nope");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CorpusLoader.load(sc, spec(missing, 4, 0.05, 1)));
    assertTrue(e.getMessage().contains("input path '" + missing.toUri() + "' does not exist"),
        e.getMessage());
    assertTrue(e.getMessage().contains("check the path and its scheme"), e.getMessage());

    IllegalArgumentException glob = assertThrows(IllegalArgumentException.class,
        () -> CorpusLoader.load(sc, new DatasetSpec(dir.toUri() + "*.none",
            DatasetSpec.Format.TEXT, "byte", 4, 0.05, 1)));
    assertTrue(glob.getMessage().contains("does not exist"), glob.getMessage());
  }

  @Test
  void directoryWithOnlyHiddenFilesIsRefused() throws Exception {
    CorpusFixtures.write(dir.resolve("_SUCCESS"), new byte[0]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CorpusLoader.load(sc, spec(dir, 4, 0.05, 1)));
    assertTrue(e.getMessage().contains("but no file in them"), e.getMessage());
  }

  @Test
  void emptyCorpusIsRefused() throws Exception {
    CorpusFixtures.write(dir.resolve("empty.txt"), new byte[0]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CorpusLoader.load(sc, spec(dir, 4, 0.05, 1)));
    assertTrue(e.getMessage().contains("is empty: 1 file(s), 0 tokens"), e.getMessage());
  }

  @Test
  void corpusShorterThanContextPlusOneIsRefusedWithWhatWasFound() throws Exception {
    CorpusFixtures.write(dir.resolve("short.txt"), CorpusFixtures.counting(64, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CorpusLoader.load(sc, spec(dir, 64, 0.05, 1)));
    assertTrue(e.getMessage().contains("shorter than contextLength+1 = 65 tokens"),
        e.getMessage());
    assertTrue(e.getMessage().contains("found 64 tokens in 1 file(s)"), e.getMessage());
  }

  @Test
  void loadsTheShippedCorpus() throws Exception {
    Path corpus = CorpusFixtures.repositoryRoot().resolve("data/moby-dick.txt");
    TrainingData data = CorpusLoader.load(sc,
        spec(corpus, 256, DatasetSpec.DEFAULT_VALIDATION_FRACTION, 2));
    assertEquals(Files.size(corpus), data.corpusTokens());
    long sequences = (Files.size(corpus) - 1) / 256;
    assertEquals(sequences, data.totalSequences());
    assertEquals(sequences,
        data.trainSequences() + 2 * data.validationPerRank() + data.droppedSequences());
    assertEquals(data.trainSequences(), data.train().count());
    assertTrue(data.droppedSequences() < 2);
    String start = ByteTokenizer.INSTANCE.decode(data.train().first());
    assertTrue(start.startsWith("CHAPTER 1. Loomings."), start);
    data.unpersist();
  }
}
