// Tests of TokenShards.tokenizeToShards and of CorpusLoader's SHARDS format in a local[2]
// Spark context: shards load to exactly the sequences of the text they came from, files split
// over several shards, and shard errors surface with their own type and message.
package org.ringtrain.driver.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.shards.CorruptShardException;
import org.ringtrain.driver.shards.TokenShardReader;
import org.ringtrain.driver.shards.TokenShardWriter;
import org.ringtrain.driver.tokenize.ByteTokenizer;
import org.ringtrain.driver.tokenize.Gpt2Tokenizer;
import org.ringtrain.driver.tokenize.Tokenizer;

@Timeout(60)
class TokenShardsTest {

  private static JavaSparkContext sc;

  @TempDir Path dir;

  @BeforeAll
  static void startSpark() {
    sc = CorpusFixtures.localSpark("TokenShardsTest");
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  private Path textCorpus() throws Exception {
    Path text = dir.resolve("text");
    byte[] moby = Files.readAllBytes(CorpusFixtures.repositoryRoot().resolve("data/moby-dick.txt"));
    CorpusFixtures.write(text.resolve("part-a.txt"), Arrays.copyOfRange(moby, 0, 20_000));
    CorpusFixtures.write(text.resolve("part-b.txt"), Arrays.copyOfRange(moby, 20_000, 27_000));
    CorpusFixtures.write(text.resolve("part-c.txt"), new byte[0]);
    CorpusFixtures.write(text.resolve("sub/part-d.txt"), Arrays.copyOfRange(moby, 27_000, 40_000));
    return text;
  }

  private static List<String> shardNames(Path shards) throws Exception {
    try (Stream<Path> s = Files.list(shards)) {
      // Hadoop's local FileSystem adds hidden .crc files; the loader skips them too.
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
          .sorted().collect(Collectors.toList());
    }
  }

  private static void assertSamePartitions(TrainingData a, TrainingData b) {
    assertEquals(a.corpusTokens(), b.corpusTokens());
    assertEquals(a.trainSequences(), b.trainSequences());
    assertEquals(a.validationPerRank(), b.validationPerRank());
    assertEquals(a.droppedSequences(), b.droppedSequences());
    List<List<int[]>> ta = CorpusLoaderTest.partitions(a.train());
    List<List<int[]>> tb = CorpusLoaderTest.partitions(b.train());
    List<List<int[]>> va = CorpusLoaderTest.partitions(a.validation());
    List<List<int[]>> vb = CorpusLoaderTest.partitions(b.validation());
    for (int r = 0; r < a.worldSize(); r++) {
      assertArrayEquals(ta.get(r).toArray(new int[0][]), tb.get(r).toArray(new int[0][]));
      assertArrayEquals(va.get(r).toArray(new int[0][]), vb.get(r).toArray(new int[0][]));
    }
  }

  @Test
  void shardsLoadToTheSameSequencesAsTheTextTheyCameFrom() throws Exception {
    Path text = textCorpus();
    for (String tokenizerId : Tokenizer.KNOWN_IDS) {
      Path shards = dir.resolve("shards-" + tokenizerId);
      Tokenizer tok = Tokenizer.forId(tokenizerId);
      TokenShards.Summary summary = TokenShards.tokenizeToShards(sc, text.toUri().toString(),
          shards.toUri().toString(), tok, TokenShards.DEFAULT_TOKENS_PER_SHARD);
      assertEquals(4, summary.inputFiles());
      assertEquals(40_000, summary.inputBytes());
      assertEquals(3, summary.shards(), "the empty file gives no shard");
      assertEquals(tokenizerId, summary.tokenizerId());
      // Files sorted: part-a, part-b, part-c (empty), sub/part-d.
      assertEquals(List.of(TokenShards.shardName(0, 0), TokenShards.shardName(1, 0),
          TokenShards.shardName(3, 0)), shardNames(shards));

      DatasetSpec textSpec = new DatasetSpec(text.toUri().toString(), DatasetSpec.Format.TEXT,
          tokenizerId, 32, 0.05, 2);
      TrainingData fromText = CorpusLoader.load(sc, textSpec);
      TrainingData fromShards = CorpusLoader.load(sc,
          textSpec.withFormat(DatasetSpec.Format.SHARDS).withPath(shards.toUri().toString()));
      assertEquals(summary.tokens(), fromText.corpusTokens());
      assertSamePartitions(fromText, fromShards);
      fromText.unpersist();
      fromShards.unpersist();
    }
  }

  @Test
  void splitsLargeFilesIntoShardsOfAtMostTokensPerShard() throws Exception {
    Path text = dir.resolve("t");
    byte[] content = CorpusFixtures.counting(1000, 0);
    CorpusFixtures.write(text.resolve("only.txt"), content);
    Path shards = dir.resolve("s");
    TokenShards.Summary summary = TokenShards.tokenizeToShards(
        sc, text.toString(), shards.toString(), ByteTokenizer.INSTANCE, 300);
    assertEquals(4, summary.shards());
    assertEquals(1000, summary.tokens());
    Configuration conf = new Configuration();
    int[] joined = new int[0];
    List<String> names = shardNames(shards);
    assertEquals(4, names.size());
    for (String name : names) {
      int[] part = TokenShardReader.readAll(conf,
          new org.apache.hadoop.fs.Path(shards.resolve(name).toUri()));
      assertTrue(part.length <= 300, name + ": " + part.length);
      int[] grown = Arrays.copyOf(joined, joined.length + part.length);
      System.arraycopy(part, 0, grown, joined.length, part.length);
      joined = grown;
    }
    assertArrayEquals(ByteTokenizer.INSTANCE.encode(content), joined);

    // Each shard is packed like one file: (300-1)/10 = 29 three times, (100-1)/10 = 9.
    TrainingData data = CorpusLoader.load(sc, new DatasetSpec(shards.toString(),
        DatasetSpec.Format.SHARDS, "byte", 10, 0.0, 1));
    assertEquals(29 * 3 + 9, data.trainSequences());
    data.unpersist();
  }

  @Test
  void refusesAnOutputDirectoryThatAlreadyHoldsFiles() throws Exception {
    Path text = dir.resolve("t");
    CorpusFixtures.write(text.resolve("a.txt"), CorpusFixtures.counting(100, 0));
    Path out = dir.resolve("out");
    CorpusFixtures.write(out.resolve("old.bin"), new byte[1]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        TokenShards.tokenizeToShards(sc, text.toString(), out.toString(),
            ByteTokenizer.INSTANCE, 1000));
    assertTrue(e.getMessage().contains("already holds 1 entr(y/ies)"), e.getMessage());
  }

  @Test
  void shardsWrittenWithAnotherTokenizerAreRefusedWithAHint() throws Exception {
    Path text = dir.resolve("t");
    CorpusFixtures.write(text.resolve("a.txt"),
        "Call me Ishmael. Some years ago.".getBytes(StandardCharsets.UTF_8));
    Path shards = dir.resolve("s");
    TokenShards.tokenizeToShards(
        sc, text.toString(), shards.toString(), Gpt2Tokenizer.INSTANCE, 1000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        CorpusLoader.load(sc, new DatasetSpec(shards.toString(), DatasetSpec.Format.SHARDS,
            "byte", 2, 0.0, 1)));
    assertTrue(e.getMessage().contains("was made by tokenizer 'gpt2', but this run uses tokenizer"
        + " 'byte'"), e.getMessage());
    assertTrue(e.getMessage().contains("Train with tokenizer 'gpt2'"), e.getMessage());
  }

  @Test
  void aCorruptShardFailsTheLoadWithTheReadersMessage() throws Exception {
    Path shards = dir.resolve("s");
    TokenShardWriter.write(new Configuration(),
        new org.apache.hadoop.fs.Path(shards.resolve("good.bin").toUri()), "byte",
        new int[] {1, 2, 3, 4, 5, 6});
    CorpusFixtures.write(shards.resolve("text.bin"),
        "not a shard at all, just text that happens to be long enough for a header"
            .repeat(20).getBytes(StandardCharsets.UTF_8));
    CorruptShardException e = assertThrows(CorruptShardException.class, () ->
        CorpusLoader.load(sc, new DatasetSpec(shards.toString(), DatasetSpec.Format.SHARDS,
            "byte", 2, 0.0, 1)));
    assertTrue(e.getMessage().startsWith("bad magic in shard"), e.getMessage());
    assertTrue(e.getMessage().contains("text.bin"), e.getMessage());
  }
}
