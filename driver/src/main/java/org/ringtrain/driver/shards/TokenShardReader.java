// TokenShardReader: opens one llm.c token shard and checks it before any token is used:
// magic, version, that the file length matches the declared token count, and, in shards ringtrain
// wrote, the header checksum, the tokens' CRC-32C (on a whole read) and the tokenizer id. It does
// NOT check token ids against a vocabulary; that happens where the tokenizer is known.
package org.ringtrain.driver.shards;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a shard written by {@link TokenShardWriter} or by llm.c's data scripts. Opening reads
 * and validates the header; tokens are read whole ({@link #readAll()}, which checks the tokens'
 * CRC-32C) or by range ({@link #read(long, int)}, unchecked).
 *
 * <p>A plain llm.c shard has no tokenizer id or checksum: it is accepted, and {@link
 * #readAll(Configuration, Path, String)} logs a warning that its tokenizer cannot be checked.
 */
public final class TokenShardReader implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TokenShardReader.class);

  private final FSDataInputStream in;
  private final String name;
  private final int version;
  private final long tokenCount;
  private final ShardHeader header;

  private TokenShardReader(FSDataInputStream in, String name, int version, ShardHeader header) {
    this.in = in;
    this.name = name;
    this.version = version;
    this.tokenCount = header.tokenCount();
    this.header = header;
  }

  /**
   * Opens and validates a shard.
   *
   * @throws CorruptShardException for a file shorter than the header, a bad magic number, a
   *     version other than {@value TokenShardWriter#VERSION}, a negative count, or a file
   *     length other than {@code 1024 + 2 * count}, or ringtrain header fields that fail their
   *     checksum
   * @throws IOException if the file cannot be opened
   */
  public static TokenShardReader open(Configuration conf, Path path) throws IOException {
    FileSystem fs = path.getFileSystem(conf);
    long length = fs.getFileStatus(path).getLen();
    String name = path.toString();
    FSDataInputStream in = fs.open(path);
    try {
      if (length < TokenShardWriter.HEADER_BYTES) {
        throw new CorruptShardException(
            "truncated shard '" + name + "': expected a header of " + TokenShardWriter.HEADER_BYTES
                + " bytes, found a file of " + length + " bytes; rewrite it with the tokenize job");
      }
      byte[] headerBytes = new byte[TokenShardWriter.HEADER_BYTES];
      try {
        in.readFully(0, headerBytes);
      } catch (ChecksumException e) {
        throw new CorruptShardException(
            "shard '" + name + "' fails the file system's own checksum in its header ("
                + e.getMessage() + "); the file is damaged, rewrite it with the tokenize job");
      }
      ByteBuffer header = ByteBuffer.wrap(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
      int magic = header.getInt(0);
      int version = header.getInt(4);
      int count = header.getInt(8);
      if (magic != TokenShardWriter.MAGIC) {
        String hint = magic == Integer.reverseBytes(TokenShardWriter.MAGIC)
            ? "it was written big-endian; llm.c shards are little-endian"
            : "it is not an llm.c token shard (for text files use format TEXT)";
        throw new CorruptShardException(
            "bad magic in shard '" + name + "': expected " + TokenShardWriter.MAGIC + ", found "
                + magic + "; " + hint);
      }
      if (version != TokenShardWriter.VERSION) {
        throw new CorruptShardException(
            "unknown shard version " + version + " in '" + name + "': this reader knows version "
                + TokenShardWriter.VERSION + " (uint16 tokens); rewrite the shard with the"
                + " tokenize job of this ringtrain release");
      }
      if (count < 0) {
        throw new CorruptShardException(
            "shard '" + name + "' declares a negative token count " + count
                + "; expected 0.." + TokenShardWriter.MAX_TOKENS_PER_SHARD + "; rewrite it");
      }
      long expected = TokenShardWriter.HEADER_BYTES + 2L * count;
      if (length < expected) {
        throw new CorruptShardException(
            "truncated shard '" + name + "': header declares " + count + " tokens ("
                + expected + " bytes), found " + length + " bytes ("
                + (length - TokenShardWriter.HEADER_BYTES) / 2 + " tokens); the file was cut"
                + " short, rewrite it with the tokenize job");
      }
      if (length > expected) {
        throw new CorruptShardException(
            "token count mismatch in shard '" + name + "': header declares " + count
                + " tokens (" + expected + " bytes), found " + length + " bytes ("
                + (length - TokenShardWriter.HEADER_BYTES) / 2.0 + " tokens); rewrite it with"
                + " the tokenize job");
      }
      return new TokenShardReader(in, name, version, ShardHeader.decode(headerBytes, name));
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  /** Opens, reads every token (checking their CRC-32C where the shard has one) and closes. */
  public static int[] readAll(Configuration conf, Path path) throws IOException {
    try (TokenShardReader r = open(conf, path)) {
      return r.readAll();
    }
  }

  /**
   * Opens, checks the shard was made by tokenizer {@code tokenizerId}, reads every token
   * (checking their CRC-32C) and closes. A plain llm.c shard, which names no tokenizer, is read
   * with a warning.
   *
   * @throws IllegalArgumentException if the shard names another tokenizer
   * @throws CorruptShardException if the header or the tokens fail their checksums
   */
  public static int[] readAll(Configuration conf, Path path, String tokenizerId) throws IOException {
    try (TokenShardReader r = open(conf, path)) {
      r.requireTokenizer(tokenizerId);
      return r.readAll();
    }
  }

  /** The id of the tokenizer that made the tokens; empty for a plain llm.c shard. */
  public Optional<String> tokenizerId() {
    return header.tokenizer();
  }

  /**
   * Fails if the shard names a tokenizer other than {@code tokenizerId}; warns if it names none.
   *
   * @throws IllegalArgumentException naming both tokenizers
   */
  public void requireTokenizer(String tokenizerId) {
    if (!header.hasRingtrainFields()) {
      LOG.warn("shard '{}' is a plain llm.c shard that names no tokenizer; it is read as tokenizer '{}' ids "
          + "unchecked. Rewrite it with the tokenize job to have the tokenizer checked", name, tokenizerId);
    } else if (!header.tokenizerId().equals(tokenizerId)) {
      throw new IllegalArgumentException(
          "shard '" + name + "' was made by tokenizer '" + header.tokenizerId() + "', but this run uses"
              + " tokenizer '" + tokenizerId + "'; its token ids would mean other tokens. Train with"
              + " tokenizer '" + header.tokenizerId() + "', or tokenize the corpus again with '"
              + tokenizerId + "'");
    }
  }

  /** The format version in the header. */
  public int version() {
    return version;
  }

  /** Tokens the header declares (and the file holds). */
  public long tokenCount() {
    return tokenCount;
  }

  /**
   * Every token of the shard, checked against the header's CRC-32C where ringtrain wrote it.
   *
   * @throws CorruptShardException if the tokens do not match their checksum
   */
  public int[] readAll() throws IOException {
    CRC32C crc = new CRC32C();
    int[] tokens = read(0, (int) tokenCount, crc);
    int actual = (int) crc.getValue();
    if (header.hasRingtrainFields() && actual != header.checksum()) {
      throw new CorruptShardException(
          "checksum mismatch in shard '" + name + "': the header says CRC-32C " + header.checksum()
              + ", its " + tokenCount + " tokens hash to " + actual + "; the file is damaged,"
              + " rewrite it with the tokenize job");
    }
    return tokens;
  }

  /**
   * Tokens {@code [first, first + count)}, each in {@code 0..65535}.
   *
   * @throws IllegalArgumentException if the range is not inside {@code [0, tokenCount())}
   * @throws CorruptShardException if the file ends early (it shrank after opening)
   */
  public int[] read(long first, int count) throws IOException {
    return read(first, count, null);
  }

  private int[] read(long first, int count, CRC32C crc) throws IOException {
    if (first < 0 || count < 0 || first + count > tokenCount) {
      throw new IllegalArgumentException(
          "range [" + first + ", " + (first + count) + ") is outside shard '" + name
              + "' of " + tokenCount + " tokens");
    }
    int[] tokens = new int[count];
    byte[] chunk = new byte[Math.min(count, 1 << 16) * 2];
    ByteBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    long position = TokenShardWriter.HEADER_BYTES + 2 * first;
    int done = 0;
    while (done < count) {
      int n = Math.min(count - done, chunk.length / 2);
      try {
        in.readFully(position + 2L * done, chunk, 0, 2 * n);
      } catch (ChecksumException e) {
        throw new CorruptShardException(
            "shard '" + name + "' fails the file system's own checksum (" + e.getMessage()
                + "); the file is damaged, rewrite it with the tokenize job");
      } catch (EOFException e) {
        throw new CorruptShardException(
            "truncated shard '" + name + "': ended before token " + (first + done) + " of "
                + tokenCount + " declared; rewrite it with the tokenize job");
      }
      if (crc != null) {
        crc.update(chunk, 0, 2 * n);
      }
      for (int i = 0; i < n; i++) {
        tokens[done + i] = view.getShort(2 * i) & 0xFFFF;
      }
      done += n;
    }
    return tokens;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
