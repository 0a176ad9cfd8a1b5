// Tests of Vocabulary without Spark: ids, encoding, persistence and the checks
// that refuse a vocabulary file edited after it was saved. Test code only.
package org.ringtrain.driver.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class VocabularyTest {
  @TempDir
  java.nio.file.Path tmp;

  @Test
  void padAndUnknownComeFirstAndUnknownTokensMapToUnk() {
    Vocabulary v = Vocabulary.of(List.of("good", "bad"));
    assertEquals(4, v.size());
    assertEquals(0, v.id(Vocabulary.PAD));
    assertEquals(1, v.id("never-seen"));
    assertEquals(2, v.id("good"));
    assertEquals("bad", v.token(3));
    assertTrue(v.contains("bad"));
    assertFalse(v.contains("never-seen"));
  }

  @Test
  void encodingPadsShortRowsAndTruncatesLongOnes() {
    Vocabulary v = Vocabulary.of(List.of("a", "b", "c"));
    int[] out = new int[8];
    assertEquals(2, v.encode(List.of("b", "zzz"), 4, out, 0));
    assertEquals(3, v.encode(List.of("a", "b", "c", "a", "b"), 3, out, 4));
    assertArrayEquals(new int[] {3, 1, 0, 0, 2, 3, 4, 0}, out);
  }

  @Test
  void aSavedVocabularyLoadsBackWithTheSameDigest() throws IOException {
    Vocabulary v = Vocabulary.of(List.of("good", "bad", "ünïcode", "\"quoted\""));
    Path file = new Path(tmp.resolve("vocab.json").toUri());
    v.save(file, new Configuration());
    Vocabulary back = Vocabulary.load(file, new Configuration());
    assertEquals(v.sha256(), back.sha256());
    assertEquals(v.size(), back.size());
    assertEquals(4, back.id("ünïcode"));
    assertNotEquals(v.sha256(), Vocabulary.of(List.of("bad", "good", "ünïcode", "\"quoted\"")).sha256(),
        "the digest depends on the ids, not just the set of tokens");
  }

  @Test
  void anEditedVocabularyFileIsRefused() throws IOException {
    Path file = new Path(tmp.resolve("vocab.json").toUri());
    Vocabulary.of(List.of("good", "bad")).save(file, new Configuration());
    java.nio.file.Path local = tmp.resolve("vocab.json");
    String json = Files.readString(local, StandardCharsets.UTF_8);
    Files.writeString(local, json.replace("\"good\"", "\"great\""), StandardCharsets.UTF_8);
    // Without the local filesystem's own .crc file (which may catch the edit first, depending on
    // whether checksum verification is on for the cached FileSystem), as on a store without checksums.
    Files.deleteIfExists(tmp.resolve(".vocab.json.crc"));
    IOException e = assertThrows(IOException.class, () -> Vocabulary.load(file, new Configuration()));
    assertTrue(e.getMessage().contains("edited or corrupted"), e.getMessage());
    Files.writeString(local, json.substring(0, json.length() / 2), StandardCharsets.UTF_8);
    Files.deleteIfExists(tmp.resolve(".vocab.json.crc"));
    IOException truncated = assertThrows(IOException.class, () -> Vocabulary.load(file, new Configuration()));
    assertTrue(truncated.getMessage().contains("invalid JSON"), truncated.getMessage());
  }

  @Test
  void duplicateTokensAreRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Vocabulary.of(List.of("a", "b", "a")));
    assertTrue(e.getMessage().contains("'a' appears twice"), e.getMessage());
  }
}
