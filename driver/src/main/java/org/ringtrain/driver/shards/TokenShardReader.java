// TokenShardReader: opens one llm.c token shard and checks it before any token is used:
// magic, version, and that the file length matches the declared token count. It does NOT
// know about tokenizers; vocabulary checks happen where the tokenizer is known.
package org.ringtrain.driver.shards;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads a shard written by {@link TokenShardWriter} or by llm.c's data scripts. Opening reads
 * and validates the header; tokens are read whole ({@link #readAll()}) or by range ({@link
 * #read(long, int)}).
 */
public final class TokenShardReader implements AutoCloseable {

  private final FSDataInputStream in;
  private final String name;
  private final int version;
  private final long tokenCount;

  private TokenShardReader(FSDataInputStream in, String name, int version, long tokenCount) {
    this.in = in;
    this.name = name;
    this.version = version;
    this.tokenCount = tokenCount;
  }

  /**
   * Opens and validates a shard.
   *
   * @throws CorruptShardException for a file shorter than the header, a bad magic number, a
   *     version other than {@value TokenShardWriter#VERSION}, a negative count, or a file
   *     length other than {@code 1024 + 2 * count}
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
      in.readFully(0, headerBytes);
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
      return new TokenShardReader(in, name, version, count);
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  /** Opens, reads every token and closes. */
  public static int[] readAll(Configuration conf, Path path) throws IOException {
    try (TokenShardReader r = open(conf, path)) {
      return r.readAll();
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

  /** Every token of the shard. */
  public int[] readAll() throws IOException {
    return read(0, (int) tokenCount);
  }

  /**
   * Tokens {@code [first, first + count)}, each in {@code 0..65535}.
   *
   * @throws IllegalArgumentException if the range is not inside {@code [0, tokenCount())}
   * @throws CorruptShardException if the file ends early (it shrank after opening)
   */
  public int[] read(long first, int count) throws IOException {
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
      } catch (EOFException e) {
        throw new CorruptShardException(
            "truncated shard '" + name + "': ended before token " + (first + done) + " of "
                + tokenCount + " declared; rewrite it with the tokenize job");
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
