// FileTokens streams a file in bounded chunks and blocks; these tests compare every sequence it
// yields with the whole-file reading it replaced (read all bytes, encode once, pack), bit for bit,
// for both tokenizers, at chunk and block sizes small enough to cut everywhere; and that a shard
// streamed this way is checked for its tokenizer and its tokens' checksum.
package org.ringtrain.driver.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.shards.CorruptShardException;
import org.ringtrain.driver.shards.TokenShardWriter;
import org.ringtrain.driver.tokenize.Tokenizer;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FileTokensTest {
  private static final Configuration CONF = new Configuration();

  @TempDir
  Path tmp;

  /** Whitespace runs, lone and double line breaks, spaces before breaks, non-ASCII text. */
  private static final String AWKWARD = "Call me Ishmael.\nSome years ago\n\nnever mind  \nhow long.\n"
      + "  indented\n\tline\nend\r\nwindows\n\u00e9t\u00e9 caf\u00e9\nnaïve\n\u2014dash\n123\n456 'll 've\nx\ny\n";

  @Test
  void streamedSequencesAreTheWholeFileSequencesForByteTokens() throws IOException {
    Path file = Files.write(tmp.resolve("moby.txt"), mobyPrefix(40_000));
    for (int chunk : new int[] {1, 7, 64, 1 << 20}) {
      for (int blockSequences : new int[] {1, 3, 1000}) {
        assertSameSequences(file, "byte", 16, chunk, blockSequences);
      }
    }
  }

  @Test
  void streamedSequencesAreTheWholeFileSequencesForGpt2Tokens() throws IOException {
    Path moby = Files.write(tmp.resolve("moby.txt"), mobyPrefix(40_000));
    Path awkward = Files.writeString(tmp.resolve("awkward.txt"), AWKWARD.repeat(30), StandardCharsets.UTF_8);
    for (Path file : List.of(moby, awkward)) {
      for (int chunk : new int[] {3, 64, 1000}) {
        for (int blockSequences : new int[] {1, 5}) {
          assertSameSequences(file, "gpt2", 8, chunk, blockSequences);
        }
      }
    }
  }

  @Test
  void textWithoutASafeCutIsReadInAGrowingChunkAndStaysExact() throws IOException {
    Path file = Files.writeString(tmp.resolve("one-line.txt"), "no line break at all, ".repeat(200));
    assertSameSequences(file, "gpt2", 8, 16, 2);
  }

  @Test
  void emptyAndShortFilesGiveNoSequences() throws IOException {
    assertSameSequences(Files.write(tmp.resolve("empty.txt"), new byte[0]), "byte", 4, 2, 1);
    assertSameSequences(Files.writeString(tmp.resolve("short.txt"), "abcd"), "byte", 4, 2, 1);
    assertSameSequences(Files.writeString(tmp.resolve("one.txt"), "abcde"), "byte", 4, 2, 1);
  }

  @Test
  void aSafeCutIsALoneLineBreakBetweenPrintableCharacters() {
    byte[] text = "ab \nc\n\nd\ne".getBytes(StandardCharsets.US_ASCII);
    assertEquals(9, FileTokens.safeCut(text, text.length));
    assertEquals(0, FileTokens.safeCut(text, 8));
    assertEquals(0, FileTokens.safeCut("a \nb".getBytes(StandardCharsets.US_ASCII), 4));
  }

  @Test
  void aStreamedShardIsCheckedForItsTokenizerAndItsTokenChecksum() throws IOException {
    int[] tokens = new int[300];
    Arrays.setAll(tokens, i -> i % 256);
    Path good = tmp.resolve("good.bin");
    TokenShardWriter.write(CONF, new org.apache.hadoop.fs.Path(good.toUri()), "byte", tokens);
    Iterator<TokenBlock> blocks = FileTokens.read(CONF, 0, good.toUri().toString(), DatasetSpec.Format.SHARDS,
        Tokenizer.forId("byte"), 4, 64, 10);
    long read = 0;
    while (blocks.hasNext()) {
      read += blocks.next().newTokens();
    }
    assertEquals(tokens.length, read);

    Iterator<TokenBlock> otherTokenizer = FileTokens.read(CONF, 0, good.toUri().toString(),
        DatasetSpec.Format.SHARDS, Tokenizer.forId("gpt2"), 4, 64, 10);
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, otherTokenizer::hasNext);
    assertTrue(refused.getMessage().contains("was made by tokenizer 'byte', but this run uses tokenizer 'gpt2'"),
        refused.getMessage());

    byte[] bytes = Files.readAllBytes(good);
    bytes[bytes.length - 2] ^= 0x01;
    Path flipped = Files.write(tmp.resolve("flipped.bin"), bytes);
    Iterator<TokenBlock> corrupt = FileTokens.read(CONF, 0, flipped.toUri().toString(), DatasetSpec.Format.SHARDS,
        Tokenizer.forId("byte"), 4, 64, 10);
    UncheckedIOException e = assertThrows(UncheckedIOException.class, corrupt::hasNext);
    assertInstanceOf(CorruptShardException.class, e.getCause());
    assertTrue(e.getMessage().contains("checksum mismatch in shard"), e.getMessage());
  }

  private static byte[] mobyPrefix(int bytes) throws IOException {
    byte[] all = Files.readAllBytes(CorpusFixtures.repositoryRoot().resolve("data/moby-dick.txt"));
    return Arrays.copyOf(all, Math.min(bytes, all.length));
  }

  /** The streamed blocks give the whole file's tokens and sequences, bit for bit. */
  private static void assertSameSequences(Path file, String tokenizerId, int contextLength, int chunkBytes,
      int blockSequences) throws IOException {
    Tokenizer tokenizer = Tokenizer.forId(tokenizerId);
    int[] whole = tokenizer.encode(Files.readAllBytes(file));
    List<int[]> expected = new ArrayList<>();
    for (long i = 0; i < SequencePacker.sequenceCount(whole.length, contextLength); i++) {
      expected.add(SequencePacker.sequence(whole, i, contextLength));
    }
    Iterator<TokenBlock> blocks = FileTokens.read(CONF, 7, file.toUri().toString(), DatasetSpec.Format.TEXT,
        tokenizer, contextLength, chunkBytes, blockSequences);
    List<int[]> actual = new ArrayList<>();
    long tokens = 0;
    while (blocks.hasNext()) {
      TokenBlock b = blocks.next();
      String where = file.getFileName() + " chunk " + chunkBytes + " block " + blockSequences + " at sequence "
          + b.firstSequence();
      assertEquals(7, b.file(), where);
      assertEquals(actual.size(), b.firstSequence(), where);
      assertArrayEquals(Arrays.copyOfRange(whole, (int) Math.min(whole.length, b.firstSequence() * contextLength),
          (int) Math.min(whole.length, b.firstSequence() * contextLength + b.tokens().length)), b.tokens(), where);
      for (long j = 0; j < SequencePacker.sequenceCount(b.tokens().length, contextLength); j++) {
        actual.add(SequencePacker.sequence(b.tokens(), j, contextLength));
      }
      tokens += b.newTokens();
    }
    assertEquals(whole.length, tokens, "token count of " + file.getFileName());
    assertEquals(expected.size(), actual.size(), "sequences of " + file.getFileName());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), file.getFileName() + " sequence " + i);
    }
  }
}
