// Tests of the llm.c shard format on the local FileSystem: TokenShardWriter and
// TokenShardReader round trips, the exact byte layout, and every corruption error. No Spark.
package org.ringtrain.driver.shards;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class TokenShardReaderTest {

  @TempDir java.nio.file.Path dir;

  private final Configuration conf = new Configuration();

  private Path shard(String name) {
    return new Path(dir.resolve(name).toUri());
  }

  private static int[] sample(int n) {
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = (i * 7919) % 65536;
    }
    return t;
  }

  @Test
  void writesTheLlmcLayoutByteForByte() throws IOException {
    Path p = shard("a.bin");
    TokenShardWriter.write(conf, p, new int[] {1, 258, 65535});
    byte[] bytes = Files.readAllBytes(dir.resolve("a.bin"));
    assertEquals(1024 + 6, bytes.length);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(20240520, b.getInt(0));
    assertEquals(1, b.getInt(4));
    assertEquals(3, b.getInt(8));
    for (int i = 3; i < 256; i++) {
      assertEquals(0, b.getInt(4 * i), "header int " + i);
    }
    assertEquals(1, b.getShort(1024) & 0xFFFF);
    assertEquals(258, b.getShort(1026) & 0xFFFF);
    assertEquals(65535, b.getShort(1028) & 0xFFFF);
  }

  @Test
  void roundTripsEmptySmallAndMultiBufferShards() throws IOException {
    for (int n : new int[] {0, 1, 5, 100_003}) {
      Path p = shard("s" + n + ".bin");
      int[] tokens = sample(n);
      TokenShardWriter.write(conf, p, tokens);
      try (TokenShardReader r = TokenShardReader.open(conf, p)) {
        assertEquals(1, r.version());
        assertEquals(n, r.tokenCount());
        assertArrayEquals(tokens, r.readAll(), "n=" + n);
        if (n > 70_000) {
          assertArrayEquals(Arrays.copyOfRange(tokens, 65_530, 70_000), r.read(65_530, 4_470));
        }
      }
    }
  }

  @Test
  void streamingWriterChecksTheDeclaredCount() throws IOException {
    Path p = shard("short.bin");
    TokenShardWriter w = TokenShardWriter.create(conf, p, 10, false);
    w.write(new int[] {1, 2, 3}, 0, 3);
    IOException e = assertThrows(IOException.class, w::close);
    assertTrue(e.getMessage().contains("token count mismatch"), e.getMessage());
    assertTrue(e.getMessage().contains("header declares 10 tokens, 3 were written"),
        e.getMessage());

    try (TokenShardWriter w2 = TokenShardWriter.create(conf, shard("over.bin"), 2, false)) {
      IllegalArgumentException over = assertThrows(IllegalArgumentException.class,
          () -> w2.write(new int[] {1, 2, 3}, 0, 3));
      assertTrue(over.getMessage().contains("declares 2 tokens"), over.getMessage());
      w2.write(new int[] {1, 2}, 0, 2);
    }
  }

  @Test
  void writerRefusesTokensThatDoNotFitUint16() throws IOException {
    try (TokenShardWriter w = TokenShardWriter.create(conf, shard("big.bin"), 1, false)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> w.write(new int[] {65536}, 0, 1));
      assertTrue(e.getMessage().contains("token 65536 at index 0 does not fit uint16"),
          e.getMessage());
      w.write(new int[] {65535}, 0, 1);
    }
  }

  private Path corrupt(String name, int magic, int version, int count, int tokenBytes)
      throws IOException {
    ByteBuffer b = ByteBuffer.allocate(1024 + tokenBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, magic).putInt(4, version).putInt(8, count);
    Files.write(dir.resolve(name), b.array());
    return shard(name);
  }

  private String openError(Path p) {
    return assertThrows(CorruptShardException.class, () -> TokenShardReader.open(conf, p))
        .getMessage();
  }

  @Test
  void badMagicIsReportedWithAHint() throws IOException {
    String m = openError(corrupt("magic.bin", 12345, 1, 0, 0));
    assertTrue(m.startsWith("bad magic in shard"), m);
    assertTrue(m.contains("expected 20240520, found 12345"), m);
    assertTrue(m.contains("format TEXT"), m);
    String swapped = openError(corrupt("be.bin", Integer.reverseBytes(20240520), 1, 0, 0));
    assertTrue(swapped.contains("big-endian"), swapped);
  }

  @Test
  void unknownVersionIsRefused() throws IOException {
    String m = openError(corrupt("v2.bin", 20240520, 2, 0, 0));
    assertTrue(m.startsWith("unknown shard version 2"), m);
    assertTrue(m.contains("knows version 1 (uint16 tokens)"), m);
  }

  @Test
  void truncatedHeaderAndTruncatedTokensAreReported() throws IOException {
    Files.write(dir.resolve("tiny.bin"), new byte[100]);
    String header = openError(shard("tiny.bin"));
    assertTrue(header.contains("truncated shard"), header);
    assertTrue(header.contains("found a file of 100 bytes"), header);

    String body = openError(corrupt("cut.bin", 20240520, 1, 10, 8));
    assertTrue(body.contains("truncated shard"), body);
    assertTrue(body.contains("header declares 10 tokens (1044 bytes), found 1032 bytes (4"
        + " tokens)"), body);
  }

  @Test
  void extraBytesAreATokenCountMismatch() throws IOException {
    String m = openError(corrupt("long.bin", 20240520, 1, 2, 6));
    assertTrue(m.startsWith("token count mismatch in shard"), m);
    assertTrue(m.contains("header declares 2 tokens (1028 bytes), found 1030 bytes"), m);
  }

  @Test
  void rangeOutsideTheShardIsRefused() throws IOException {
    Path p = shard("r.bin");
    TokenShardWriter.write(conf, p, sample(10));
    try (TokenShardReader r = TokenShardReader.open(conf, p)) {
      assertThrows(IllegalArgumentException.class, () -> r.read(8, 3));
    }
  }
}
