// TokenShardWriter: writes one token shard in the llm.c format (a 256 x int32 little-endian
// header, then uint16 little-endian tokens), with ringtrain's tokenizer id and token checksum in
// header slots llm.c leaves zero (ShardHeader). It is NOT a sharding policy: which tokens go into
// which file is TokenShards' job; this class writes exactly the tokens it was opened for.
package org.ringtrain.driver.shards;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.data.TokenShards;

/**
 * Streams one shard: the header is written when the writer opens, so the token count and the
 * tokens' CRC-32C ({@link #checksum}) must be known up front, as the count is in llm.c's {@code
 * dev/data/data_common.py}; {@link #close()} fails if other tokens were written.
 *
 * <p>Format (version {@value #VERSION}): {@value #HEADER_INTS} little-endian int32 — [0] magic
 * {@value #MAGIC}, [1] version, [2] token count, [3..255] ringtrain's fields (see {@link
 * ShardHeader}: a marker, the tokens' CRC-32C, the tokenizer id, a header CRC-32C) where llm.c
 * writes 0 — then the tokens as little-endian uint16. File size = {@value #HEADER_BYTES} + 2 ×
 * count bytes, so llm.c reads these shards unchanged.
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
  private final int declaredChecksum;
  private final CRC32C crc = new CRC32C();
  private long written;
  private boolean closed;

  /**
   * Starts a shard on a stream and writes its header. The writer owns the stream and closes
   * it.
   *
   * @param name the file's name or path, for error messages
   * @param tokenizerId id of the tokenizer that made the tokens, e.g. "gpt2"; 1..128 UTF-8 bytes
   * @param tokenCount how many tokens will be written, {@code 0..}{@value #MAX_TOKENS_PER_SHARD}
   * @param checksum {@link #checksum} of exactly the tokens that will be written
   */
  public TokenShardWriter(OutputStream out, String name, String tokenizerId, long tokenCount, int checksum)
      throws IOException {
    try {
      ShardHeader.checkTokenizerId(tokenizerId, name);
    } catch (IllegalArgumentException e) {
      out.close();
      throw e;
    }
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
    this.declaredChecksum = checksum;
    this.out.write(new ShardHeader((int) tokenCount, tokenizerId, checksum).encode());
  }

  /**
   * The CRC-32C of tokens {@code [offset, offset + length)} as a shard stores them (little-endian
   * uint16), which the header records; tokens outside uint16 are hashed truncated (the writer
   * refuses them anyway).
   */
  public static int checksum(int[] tokens, int offset, int length) {
    CRC32C crc = new CRC32C();
    ByteBuffer chunk = ByteBuffer.allocate(BUFFER_TOKENS * 2).order(ByteOrder.LITTLE_ENDIAN);
    int end = offset + length;
    for (int i = offset; i < end; i++) {
      chunk.putShort((short) tokens[i]);
      if (!chunk.hasRemaining()) {
        crc.update(chunk.array(), 0, chunk.position());
        chunk.clear();
      }
    }
    crc.update(chunk.array(), 0, chunk.position());
    return (int) crc.getValue();
  }

  /**
   * Creates (or, with {@code overwrite}, replaces) a shard file on a Hadoop FileSystem.
   *
   * @throws IOException if the file exists and {@code overwrite} is false, or on write failure
   */
  public static TokenShardWriter create(Configuration conf, Path path, String tokenizerId, long tokenCount,
      int checksum, boolean overwrite) throws IOException {
    FileSystem fs = path.getFileSystem(conf);
    return new TokenShardWriter(fs.create(path, overwrite), path.toString(), tokenizerId, tokenCount, checksum);
  }

  /**
   * Writes a whole shard of {@code tokens}, made by tokenizer {@code tokenizerId}, to {@code path},
   * replacing any file there.
   */
  public static void write(Configuration conf, Path path, String tokenizerId, int[] tokens) throws IOException {
    try (TokenShardWriter w = create(conf, path, tokenizerId, tokens.length, checksum(tokens, 0, tokens.length),
        true)) {
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
   * @throws IOException if fewer tokens were written than the header declares, or tokens whose
   *     checksum differs from the declared one (the file is then invalid and should be deleted)
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
    int actual = (int) crc.getValue();
    if (actual != declaredChecksum) {
      throw new IOException(
          "checksum mismatch in shard '" + name + "': the header declares CRC-32C " + declaredChecksum
              + " but the tokens written hash to " + actual + "; the file is invalid, delete it and pass"
              + " TokenShardWriter.checksum of exactly the tokens written");
    }
  }

  private void flushBuffer() throws IOException {
    crc.update(buffer.array(), 0, buffer.position());
    out.write(buffer.array(), 0, buffer.position());
    buffer.clear();
  }
}
