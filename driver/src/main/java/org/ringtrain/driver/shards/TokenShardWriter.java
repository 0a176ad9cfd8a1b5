// TokenShardWriter: writes one token shard in the llm.c format (a 256 x int32 little-endian
// header, then uint16 little-endian tokens). It is NOT a sharding policy: which tokens go into
// which file is TokenShards' job; this class writes exactly the count it was opened with.
package org.ringtrain.driver.shards;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.data.TokenShards;

/**
 * Streams one shard: the header is written when the writer opens (so the token count must be
 * known up front, as in llm.c's {@code dev/data/data_common.py}); {@link #close()} fails if a
 * different number of tokens was written.
 *
 * <p>Format (version {@value #VERSION}): {@value #HEADER_INTS} little-endian int32 — [0] magic
 * {@value #MAGIC}, [1] version, [2] token count, the rest 0 — then the tokens as little-endian
 * uint16. File size = {@value #HEADER_BYTES} + 2 × count bytes.
 */
public final class TokenShardWriter implements AutoCloseable {

  /** Magic number in header[0]: {@value} (llm.c's token shards). */
  public static final int MAGIC = 20240520;

  /** Format version in header[1]: {@value} (uint16 tokens). */
  public static final int VERSION = 1;

  /** Header length in int32 values: {@value}. */
  public static final int HEADER_INTS = 256;

  /** Header length in bytes: {@value}. */
  public static final int HEADER_BYTES = HEADER_INTS * Integer.BYTES;

  /** Largest token id a uint16 shard can hold: {@value}. */
  public static final int MAX_TOKEN = 0xFFFF;

  /** Largest token count header[2] (an int32) can declare: {@value}. */
  public static final long MAX_TOKENS_PER_SHARD = Integer.MAX_VALUE;

  private static final int BUFFER_TOKENS = 32 * 1024;

  private final OutputStream out;
  private final String name;
  private final long declared;
  private final ByteBuffer buffer =
      ByteBuffer.allocate(BUFFER_TOKENS * 2).order(ByteOrder.LITTLE_ENDIAN);
  private long written;
  private boolean closed;

  /**
   * Starts a shard on a stream and writes its header. The writer owns the stream and closes
   * it.
   *
   * @param name the file's name or path, for error messages
   * @param tokenCount how many tokens will be written, {@code 0..}{@value #MAX_TOKENS_PER_SHARD}
   */
  public TokenShardWriter(OutputStream out, String name, long tokenCount) throws IOException {
    if (tokenCount < 0 || tokenCount > MAX_TOKENS_PER_SHARD) {
      out.close();
      throw new IllegalArgumentException(
          "shard '" + name + "': token count must be in 0.." + MAX_TOKENS_PER_SHARD
              + " (an int32 header field), found " + tokenCount
              + "; split the tokens over more shards");
    }
    this.out = new BufferedOutputStream(out, 1 << 16);
    this.name = name;
    this.declared = tokenCount;
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.putInt(0, MAGIC).putInt(4, VERSION).putInt(8, (int) tokenCount);
    this.out.write(header.array());
  }

  /**
   * Creates (or, with {@code overwrite}, replaces) a shard file on a Hadoop FileSystem.
   *
   * @throws IOException if the file exists and {@code overwrite} is false, or on write failure
   */
  public static TokenShardWriter create(
      Configuration conf, Path path, long tokenCount, boolean overwrite) throws IOException {
    FileSystem fs = path.getFileSystem(conf);
    return new TokenShardWriter(fs.create(path, overwrite), path.toString(), tokenCount);
  }

  /** Writes a whole shard holding {@code tokens} to {@code path}, replacing any file there. */
  public static void write(Configuration conf, Path path, int[] tokens) throws IOException {
    try (TokenShardWriter w = create(conf, path, tokens.length, true)) {
      w.write(tokens, 0, tokens.length);
    }
  }

  /**
   * Appends {@code length} tokens from {@code tokens[offset..]}.
   *
   * @throws IllegalArgumentException for a token outside {@code 0..}{@value #MAX_TOKEN}, or
   *     more tokens than declared; nothing of the offending call is written
   */
  public void write(int[] tokens, int offset, int length) throws IOException {
    if (closed) {
      throw new IllegalStateException("shard '" + name + "' is already closed");
    }
    if (written + length > declared) {
      throw new IllegalArgumentException(
          "shard '" + name + "' declares " + declared + " tokens in its header; writing "
              + length + " more after " + written + " would exceed it");
    }
    int end = offset + length;
    for (int i = offset; i < end; i++) {
      int t = tokens[i];
      if (t < 0 || t > MAX_TOKEN) {
        throw new IllegalArgumentException(
            "shard '" + name + "': token " + t + " at index " + i + " does not fit uint16"
                + " (expected 0.." + MAX_TOKEN + "); use a tokenizer with at most 65536 ids");
      }
    }
    for (int i = offset; i < end; i++) {
      buffer.putShort((short) tokens[i]);
      if (!buffer.hasRemaining()) {
        flushBuffer();
      }
    }
    written += length;
  }

  /** Tokens written so far. */
  public long written() {
    return written;
  }

  /**
   * Flushes and closes the stream.
   *
   * @throws IOException if fewer tokens were written than the header declares (the file is
   *     then invalid and should be deleted)
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      flushBuffer();
    } finally {
      out.close();
    }
    if (written != declared) {
      throw new IOException(
          "token count mismatch in shard '" + name + "': header declares " + declared
              + " tokens, " + written + " were written; the file is invalid, delete it and"
              + " write the shard again");
    }
  }

  private void flushBuffer() throws IOException {
    out.write(buffer.array(), 0, buffer.position());
    buffer.clear();
  }
}
