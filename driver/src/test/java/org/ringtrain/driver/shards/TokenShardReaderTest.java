// Tests of the llm.c shard format on the local FileSystem: TokenShardWriter and
// TokenShardReader round trips, the exact byte layout (llm.c's fields and ringtrain's), the
// tokenizer check, the checksums and every corruption error. No Spark.
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
    TokenShardWriter.write(conf, p, "gpt2", new int[] {1, 258, 65535});
    byte[] bytes = Files.readAllBytes(dir.resolve("a.bin"));
    assertEquals(1024 + 6, bytes.length);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(20240520, b.getInt(0));
    assertEquals(1, b.getInt(4));
    assertEquals(3, b.getInt(8));
    assertEquals(0x31535452, b.getInt(12), "ringtrain marker");
    assertEquals(TokenShardWriter.checksum(new int[] {1, 258, 65535}, 0, 3), b.getInt(16));
    java.util.zip.CRC32C tokens = new java.util.zip.CRC32C();
    tokens.update(bytes, 1024, 6);
    assertEquals((int) tokens.getValue(), b.getInt(16), "CRC-32C of the token bytes");
    assertEquals(4, b.getInt(20), "tokenizer id length");
    assertEquals("gpt2", new String(bytes, 24, 4, java.nio.charset.StandardCharsets.US_ASCII));
    for (int i = 7; i < 255; i++) {
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
      TokenShardWriter.write(conf, p, "byte", tokens);
      try (TokenShardReader r = TokenShardReader.open(conf, p)) {
        assertEquals(1, r.version());
        assertEquals("byte", r.tokenizerId().orElseThrow());
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
    TokenShardWriter w = TokenShardWriter.create(conf, p, "byte", 10, 0, false);
    w.write(new int[] {1, 2, 3}, 0, 3);
    IOException e = assertThrows(IOException.class, w::close);
    assertTrue(e.getMessage().contains("token count mismatch"), e.getMessage());
    assertTrue(e.getMessage().contains("header declares 10 tokens, 3 were written"),
        e.getMessage());

    int[] two = {1, 2};
    try (TokenShardWriter w2 = TokenShardWriter.create(conf, shard("over.bin"), "byte", 2,
        TokenShardWriter.checksum(two, 0, 2), false)) {
      IllegalArgumentException over = assertThrows(IllegalArgumentException.class,
          () -> w2.write(new int[] {1, 2, 3}, 0, 3));
      assertTrue(over.getMessage().contains("declares 2 tokens"), over.getMessage());
      w2.write(two, 0, 2);
    }
  }

  @Test
  void streamingWriterChecksTheDeclaredChecksum() throws IOException {
    int[] declared = {1, 2, 3};
    TokenShardWriter w = TokenShardWriter.create(conf, shard("other.bin"), "byte", 3,
        TokenShardWriter.checksum(declared, 0, 3), false);
    w.write(new int[] {1, 2, 4}, 0, 3);
    IOException e = assertThrows(IOException.class, w::close);
    assertTrue(e.getMessage().startsWith("checksum mismatch in shard"), e.getMessage());
  }

  @Test
  void writerRefusesTokensThatDoNotFitUint16() throws IOException {
    try (TokenShardWriter w = TokenShardWriter.create(conf, shard("big.bin"), "byte", 1,
        TokenShardWriter.checksum(new int[] {65535}, 0, 1), false)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> w.write(new int[] {65536}, 0, 1));
      assertTrue(e.getMessage().contains("token 65536 at index 0 does not fit uint16"),
          e.getMessage());
      w.write(new int[] {65535}, 0, 1);
    }
  }

  /**
   * Hadoop's local file system keeps a CRC sidecar per file and would catch damage on its own;
   * without it only the shard's own checksums see it, as on HDFS or s3a.
   */
  private void dropHadoopCrc(String name) throws IOException {
    Files.deleteIfExists(dir.resolve("." + name + ".crc"));
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
    TokenShardWriter.write(conf, p, "byte", sample(10));
    try (TokenShardReader r = TokenShardReader.open(conf, p)) {
      assertThrows(IllegalArgumentException.class, () -> r.read(8, 3));
    }
  }

  @Test
  void aShardOfAnotherTokenizerIsRefusedNamingBoth() throws IOException {
    Path p = shard("gpt2.bin");
    TokenShardWriter.write(conf, p, "gpt2", sample(10));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TokenShardReader.readAll(conf, p, "byte"));
    assertTrue(e.getMessage().contains("was made by tokenizer 'gpt2', but this run uses tokenizer 'byte'"),
        e.getMessage());
    assertArrayEquals(sample(10), TokenShardReader.readAll(conf, p, "gpt2"));
  }

  @Test
  void aCorruptedTokenIsCaughtByTheChecksum() throws IOException {
    Path p = shard("flip.bin");
    TokenShardWriter.write(conf, p, "byte", sample(1000));
    byte[] bytes = Files.readAllBytes(dir.resolve("flip.bin"));
    bytes[1024 + 2 * 500] ^= 0x01;
    Files.write(dir.resolve("flip.bin"), bytes);
    dropHadoopCrc("flip.bin");
    CorruptShardException e = assertThrows(CorruptShardException.class,
        () -> TokenShardReader.readAll(conf, p, "byte"));
    assertTrue(e.getMessage().startsWith("checksum mismatch in shard"), e.getMessage());
    assertTrue(e.getMessage().contains("flip.bin"), e.getMessage());
  }

  @Test
  void aCorruptedHeaderFieldIsCaughtByTheHeaderChecksum() throws IOException {
    Path p = shard("hdr.bin");
    TokenShardWriter.write(conf, p, "byte", sample(10));
    byte[] bytes = Files.readAllBytes(dir.resolve("hdr.bin"));
    bytes[24] = 'c'; // "byte" becomes "cyte"
    Files.write(dir.resolve("hdr.bin"), bytes);
    dropHadoopCrc("hdr.bin");
    String m = openError(p);
    assertTrue(m.startsWith("corrupt header in shard"), m);
  }

  @Test
  void aPlainLlmcShardIsReadWithoutATokenizer() throws IOException {
    Path p = corrupt("plain.bin", 20240520, 1, 2, 4);
    try (TokenShardReader r = TokenShardReader.open(conf, p)) {
      assertTrue(r.tokenizerId().isEmpty());
    }
    assertArrayEquals(new int[] {0, 0}, TokenShardReader.readAll(conf, p, "gpt2"));
  }
}
