// FileTokens: reads one input file on an executor and cuts its token stream into TokenBlocks of
// at most BLOCK_SEQUENCES sequences, streaming: text is read and tokenized a bounded chunk at a
// time, never whole. It does NOT split or route sequences (CorpusLoader and SplitPlan do); one
// file is one token stream, exactly as if it had been tokenized in one piece.
package org.ringtrain.driver.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.shards.CorruptShardException;
import org.ringtrain.driver.shards.TokenShardReader;
import org.ringtrain.driver.tokenize.Tokenizer;

/** One file's tokens, from text (tokenized here, chunk by chunk) or from an llm.c shard, in blocks. */
final class FileTokens {

  /** Text bytes tokenized at a time: 8 MiB (a chunk only grows to reach a safe cut, see below). */
  static final int TEXT_CHUNK_BYTES = 8 << 20;

  /** Largest text chunk: Java arrays stop just below 2 GiB. */
  static final long MAX_TEXT_CHUNK_BYTES = Integer.MAX_VALUE - 16L;

  /** Tokens per block, about: 1 Mi (4 MiB), rounded down to whole sequences. */
  static final int BLOCK_TOKENS = 1 << 20;

  private FileTokens() {}

  /**
   * The tokens of a file, in blocks of {@code max(1, BLOCK_TOKENS / contextLength)} sequences, read
   * as the iterator is walked; the file is closed when the last block has been returned.
   *
   * @param file the file's index in the corpus, recorded in every block
   * @throws IllegalArgumentException (from the iterator) for a shard made by another tokenizer or
   *     with ids outside the tokenizer's vocabulary, or GPT-2 text with no safe cut in
   *     {@link #MAX_TEXT_CHUNK_BYTES} bytes
   * @throws UncheckedIOException (from the iterator) on read failure, with a
   *     {@link CorruptShardException} as cause for a bad shard
   */
  static Iterator<TokenBlock> read(Configuration conf, int file, String pathString, DatasetSpec.Format format,
      Tokenizer tokenizer, int contextLength) {
    return read(conf, file, pathString, format, tokenizer, contextLength, TEXT_CHUNK_BYTES,
        Math.max(1, BLOCK_TOKENS / contextLength));
  }

  /** {@link #read} with explicit chunk and block sizes (tests use tiny ones). */
  static Iterator<TokenBlock> read(Configuration conf, int file, String pathString, DatasetSpec.Format format,
      Tokenizer tokenizer, int contextLength, int chunkBytes, int blockSequences) {
    Blocks blocks = new Blocks(file, contextLength, blockSequences);
    Path path = new Path(pathString);
    Chunks chunks = format == DatasetSpec.Format.SHARDS
        ? new ShardChunk(conf, path, tokenizer, pathString)
        : new TextChunks(conf, path, tokenizer, chunkBytes, pathString);
    return new Iterator<>() {
      private boolean finished;

      @Override
      public boolean hasNext() {
        while (blocks.ready.isEmpty() && !finished) {
          try {
            int[] chunk = chunks.next();
            if (chunk == null) {
              finished = true;
              chunks.close();
              blocks.finish();
            } else {
              blocks.add(chunk);
            }
          } catch (IOException e) {
            finished = true;
            closeQuietly(chunks, e);
            throw new UncheckedIOException("cannot read '" + pathString + "': " + e.getMessage(), e);
          } catch (RuntimeException e) {
            finished = true;
            closeQuietly(chunks, e);
            throw e;
          }
        }
        return !blocks.ready.isEmpty();
      }

      @Override
      public TokenBlock next() {
        if (!hasNext()) {
          throw new NoSuchElementException("no block of '" + pathString + "' after the last");
        }
        return blocks.ready.poll();
      }
    };
  }

  private static void closeQuietly(Chunks chunks, Exception failure) {
    try {
      chunks.close();
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
  }

  /** Token chunks of one file, in order; null after the last. */
  private interface Chunks extends Closeable {
    int[] next() throws IOException;
  }

  /**
   * A shard, read whole (llm.c shards are bounded, 100 M tokens at most) in its one chunk, so the
   * reader checks both its tokenizer id against the run's tokenizer and the CRC-32C of all its
   * tokens before any block of it is returned.
   */
  private static final class ShardChunk implements Chunks {
    private final Configuration conf;
    private final Path path;
    private final Tokenizer tokenizer;
    private final String pathString;
    private boolean read;

    ShardChunk(Configuration conf, Path path, Tokenizer tokenizer, String pathString) {
      this.conf = conf;
      this.path = path;
      this.tokenizer = tokenizer;
      this.pathString = pathString;
    }

    @Override
    public int[] next() throws IOException {
      if (read) {
        return null;
      }
      read = true;
      int[] tokens = TokenShardReader.readAll(conf, path, tokenizer.id());
      checkVocabulary(tokens, tokenizer, pathString);
      return tokens;
    }

    @Override
    public void close() {
    }
  }

  /** Text, tokenized a chunk of at most {@code chunkBytes} bytes at a time, cut where the tokens do not change. */
  private static final class TextChunks implements Chunks {
    private final Configuration conf;
    private final Path path;
    private final Tokenizer tokenizer;
    private final String pathString;
    private final boolean anyCut; // one token per byte: every position is a safe cut
    private InputStream in;
    private byte[] buf;
    private int filled;
    private boolean end;

    TextChunks(Configuration conf, Path path, Tokenizer tokenizer, int chunkBytes, String pathString) {
      this.conf = conf;
      this.path = path;
      this.tokenizer = tokenizer;
      this.pathString = pathString;
      this.anyCut = "byte".equals(tokenizer.id());
      this.buf = new byte[chunkBytes];
    }

    @Override
    public int[] next() throws IOException {
      if (in == null) {
        in = path.getFileSystem(conf).open(path);
      }
      while (!(end && filled == 0)) {
        if (!end) {
          filled += in.readNBytes(buf, filled, buf.length - filled);
          end = filled < buf.length;
        }
        int cut = end || anyCut ? filled : safeCut(buf, filled);
        if (cut > 0) {
          int[] tokens = tokenizer.encode(Arrays.copyOf(buf, cut));
          System.arraycopy(buf, cut, buf, 0, filled - cut);
          filled -= cut;
          return tokens;
        }
        buf = grow(buf, pathString);
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      if (in != null) {
        in.close();
      }
    }
  }

  /**
   * The last position {@code p} in {@code buf[0, length)} where GPT-2's pre-tokenizer must start a
   * new word in both the whole text and the chunk {@code [0, p)}: a lone line break between
   * printable ASCII characters ({@code "x\nY"}, cut before {@code Y}). Its patterns never join a
   * line break with another character, and a lone one is a word on its own whatever follows, so
   * the pieces encode to the tokens of the whole; the cut is also a UTF-8 character boundary.
   * 0 when there is none.
   */
  static int safeCut(byte[] buf, int length) {
    for (int p = length - 1; p >= 2; p--) {
      if (buf[p - 1] == '\n' && printable(buf[p]) && printable(buf[p - 2])) {
        return p;
      }
    }
    return 0;
  }

  /** Printable ASCII other than the space: the characters around a safe cut. */
  static boolean printable(byte b) {
    return b > ' ' && b < 0x7F;
  }

  private static byte[] grow(byte[] buf, String pathString) {
    if (buf.length >= MAX_TEXT_CHUNK_BYTES) {
      throw new IllegalArgumentException("text file '" + pathString + "' has no line break between printable "
          + "characters in " + buf.length + " bytes, where it could be tokenized in pieces; expected one at least "
          + "every " + MAX_TEXT_CHUNK_BYTES + " bytes; add line breaks, split the file, or pretokenize it into "
          + "shards with the tokenize job");
    }
    return Arrays.copyOf(buf, (int) Math.min(MAX_TEXT_CHUNK_BYTES, 2L * buf.length));
  }

  private static void checkVocabulary(int[] tokens, Tokenizer tokenizer, String pathString) {
    int vocab = tokenizer.vocabSize();
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i] >= vocab) {
        throw new IllegalArgumentException(
            "shard '" + pathString + "' holds token id " + tokens[i] + " at position " + i
                + ", outside the vocabulary of tokenizer '" + tokenizer.id() + "' (expected 0.."
                + (vocab - 1) + "); the shards were written with another tokenizer: pass the"
                + " tokenizer they were made with (for llm.c's GPT-2 shards: gpt2)");
      }
    }
  }

  /** Cuts a stream of token chunks into blocks of {@code blockSequences} sequences. */
  private static final class Blocks {
    private final int file;
    private final int contextLength;
    private final int blockSequences;
    private final int[] buf; // the current block: blockSequences * T + 1 tokens when full
    private final ArrayDeque<TokenBlock> ready = new ArrayDeque<>();
    private long blocks;
    private int filled;

    Blocks(int file, int contextLength, int blockSequences) {
      this.file = file;
      this.contextLength = contextLength;
      this.blockSequences = blockSequences;
      this.buf = new int[Math.toIntExact((long) blockSequences * contextLength + 1)];
    }

    void add(int[] tokens) {
      int from = 0;
      while (from < tokens.length) {
        int n = Math.min(buf.length - filled, tokens.length - from);
        System.arraycopy(tokens, from, buf, filled, n);
        filled += n;
        from += n;
        if (filled == buf.length) {
          // A full block: its last token is the first of the next block's first sequence.
          ready.add(new TokenBlock(file, blocks++ * blockSequences, buf.length - 1L, buf.clone()));
          buf[0] = buf[buf.length - 1];
          filled = 1;
        }
      }
    }

    void finish() {
      ready.add(new TokenBlock(file, blocks++ * blockSequences, filled, Arrays.copyOf(buf, filled)));
    }
  }
}
