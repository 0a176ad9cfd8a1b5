// FileTokens: reads one input file and returns its token ids, on an executor. It does NOT
// pack, split or route anything; one file is one token stream, read whole into memory.
package org.ringtrain.driver.data;

import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.shards.CorruptShardException;
import org.ringtrain.driver.shards.TokenShardReader;
import org.ringtrain.driver.tokenize.Tokenizer;

/** One file's tokens, from text (tokenized here) or from an llm.c shard. */
final class FileTokens {

  /** Largest text file tokenized in one piece: Java arrays stop just below 2 GiB. */
  static final long MAX_TEXT_FILE_BYTES = Integer.MAX_VALUE - 16L;

  private FileTokens() {}

  /**
   * The tokens of a file.
   *
   * @throws IllegalArgumentException for a text file too large for one array, or a shard made by
   *     another tokenizer or with ids outside the tokenizer's vocabulary
   * @throws IOException on read failure, or {@link CorruptShardException} for a bad shard
   */
  static int[] read(
      Configuration conf, String pathString, DatasetSpec.Format format, Tokenizer tokenizer)
      throws IOException {
    Path path = new Path(pathString);
    if (format == DatasetSpec.Format.SHARDS) {
      int[] tokens = TokenShardReader.readAll(conf, path, tokenizer.id());
      checkVocabulary(tokens, tokenizer, pathString);
      return tokens;
    }
    FileSystem fs = path.getFileSystem(conf);
    long length = fs.getFileStatus(path).getLen();
    if (length > MAX_TEXT_FILE_BYTES) {
      throw new IllegalArgumentException(
          "text file '" + pathString + "' has " + length + " bytes; expected at most "
              + MAX_TEXT_FILE_BYTES + " per file; split it into smaller files or pretokenize"
              + " it into shards with the tokenize job");
    }
    byte[] bytes;
    try (InputStream in = fs.open(path)) {
      bytes = in.readAllBytes();
    }
    return tokenizer.encode(bytes);
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
}
