// ShardHeader: the 1024-byte header of a token shard, llm.c's three fields plus ringtrain's
// fields in slots llm.c leaves zero (tokenizer id, token checksum, header checksum). It encodes
// and decodes headers; it does NOT read files or check tokens against the checksum.
package org.ringtrain.driver.shards;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A shard header: 256 little-endian int32.
 *
 * <pre>
 * [0]   magic 20240520            llm.c
 * [1]   version 1                 llm.c
 * [2]   token count               llm.c
 * [3]   ringtrain marker 0x31535452 ("RTS1"); 0 in a plain llm.c shard, which ends the header here
 * [4]   CRC-32C of the token bytes (everything after the header)
 * [5]   length in bytes of the tokenizer id, 1..{@value #MAX_TOKENIZER_ID_BYTES}
 * [6..37]  the tokenizer id, UTF-8, zero-padded
 * [38..254] 0
 * [255] CRC-32C of header bytes 0..1019, so a damaged ringtrain field is not mistaken for another
 * </pre>
 *
 * <p>llm.c reads only [0..2] and checks the file length, so these shards stay llm.c shards.
 *
 * @param tokenCount  tokens that follow the header
 * @param tokenizerId the tokenizer that wrote the tokens; null in a plain llm.c shard
 * @param checksum    CRC-32C of the token bytes; meaningless without a tokenizer id
 */
record ShardHeader(int tokenCount, String tokenizerId, int checksum) {

  /** Marker in header[3] of shards ringtrain writes: the bytes "RTS1". */
  static final int RINGTRAIN_MARKER = 0x31535452;

  /** Longest tokenizer id the header holds, in UTF-8 bytes: {@value}. */
  static final int MAX_TOKENIZER_ID_BYTES = 128;

  private static final int ID_LENGTH_SLOT = 5;
  private static final int ID_FIRST_SLOT = 6;
  private static final int HEADER_CRC_SLOT = TokenShardWriter.HEADER_INTS - 1;

  /** Whether ringtrain wrote the shard (it names its tokenizer and has a checksum). */
  boolean hasRingtrainFields() {
    return tokenizerId != null;
  }

  /** The tokenizer id, if ringtrain wrote the shard. */
  Optional<String> tokenizer() {
    return Optional.ofNullable(tokenizerId);
  }

  /** The header as {@value TokenShardWriter#HEADER_BYTES} bytes. */
  byte[] encode() {
    ByteBuffer header = ByteBuffer.allocate(TokenShardWriter.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.putInt(0, TokenShardWriter.MAGIC).putInt(4, TokenShardWriter.VERSION).putInt(8, tokenCount);
    if (tokenizerId != null) {
      byte[] id = tokenizerId.getBytes(StandardCharsets.UTF_8);
      header.putInt(12, RINGTRAIN_MARKER).putInt(16, checksum).putInt(4 * ID_LENGTH_SLOT, id.length);
      header.put(4 * ID_FIRST_SLOT, id);
      header.putInt(4 * HEADER_CRC_SLOT, headerCrc(header.array()));
    }
    return header.array();
  }

  /**
   * The header of {@code bytes}, whose magic, version and count the caller has checked.
   *
   * @throws CorruptShardException if the ringtrain fields fail their header checksum or are malformed
   */
  static ShardHeader decode(byte[] bytes, String name) throws CorruptShardException {
    ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int count = header.getInt(8);
    if (header.getInt(12) != RINGTRAIN_MARKER) {
      return new ShardHeader(count, null, 0);
    }
    int stored = header.getInt(4 * HEADER_CRC_SLOT);
    int actual = headerCrc(bytes);
    if (stored != actual) {
      throw new CorruptShardException("corrupt header in shard '" + name + "': its CRC-32C says " + stored
          + ", the header hashes to " + actual + "; the file is damaged, rewrite it with the tokenize job");
    }
    int idLength = header.getInt(4 * ID_LENGTH_SLOT);
    if (idLength < 1 || idLength > MAX_TOKENIZER_ID_BYTES) {
      throw new CorruptShardException("shard '" + name + "' declares a tokenizer id of " + idLength
          + " bytes, expected 1.." + MAX_TOKENIZER_ID_BYTES + "; rewrite it with the tokenize job");
    }
    String id = new String(bytes, 4 * ID_FIRST_SLOT, idLength, StandardCharsets.UTF_8);
    return new ShardHeader(count, id, header.getInt(16));
  }

  /**
   * Checks a tokenizer id fits the header.
   *
   * @throws IllegalArgumentException for a blank id or one longer than {@value #MAX_TOKENIZER_ID_BYTES} bytes
   */
  static void checkTokenizerId(String tokenizerId, String name) {
    int bytes = tokenizerId == null ? 0 : tokenizerId.getBytes(StandardCharsets.UTF_8).length;
    if (tokenizerId == null || tokenizerId.isBlank() || bytes > MAX_TOKENIZER_ID_BYTES) {
      throw new IllegalArgumentException("shard '" + name + "': the tokenizer id must be 1.."
          + MAX_TOKENIZER_ID_BYTES + " UTF-8 bytes, found " + (tokenizerId == null ? "null" : "'" + tokenizerId
          + "' (" + bytes + " bytes)") + "; pass the id of the tokenizer that made the tokens, e.g. \"gpt2\"");
    }
  }

  private static int headerCrc(byte[] header) {
    CRC32C crc = new CRC32C();
    crc.update(header, 0, 4 * HEADER_CRC_SLOT);
    return (int) crc.getValue();
  }
}
