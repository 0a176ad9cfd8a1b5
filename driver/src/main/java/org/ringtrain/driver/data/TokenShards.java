// TokenShards: the work of the `tokenize` job, turning a text corpus into llm.c token shards
// with Spark, one task per group of files, written straight from the executors while the text is
// streamed (at most one shard's tokens in memory). It is NOT the
// job's command line (that lives in jobs/) and does not pack sequences.
package org.ringtrain.driver.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.InputFiles;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.shards.TokenShardWriter;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pretokenizes a TEXT corpus into shards that {@link CorpusLoader} reads with {@link
 * DatasetSpec.Format#SHARDS}.
 *
 * <p>Input file {@code f} (in sorted path order) becomes shards {@code
 * shard-<f, 9 digits>-<part, 10 digits>.bin} of at most {@code tokensPerShard} tokens, so the
 * shards sort in corpus order. Because the loader packs each shard like one file, loading the
 * shards gives exactly the sequences of loading the text whenever every file fits in one shard
 * (the default {@value #DEFAULT_TOKENS_PER_SHARD} tokens); a file split over {@code k} shards
 * loses at most {@code k - 1} sequences at the cuts.
 */
public final class TokenShards {

  private static final Logger LOG = LoggerFactory.getLogger(TokenShards.class);

  /** Default shard size in tokens: {@value} (about 200 MB, as llm.c's FineWeb shards). */
  public static final long DEFAULT_TOKENS_PER_SHARD = 100_000_000L;

  private TokenShards() {}

  /**
   * What {@link #tokenizeToShards} wrote.
   *
   * @param outputDir the fully qualified output directory
   * @param tokenizerId the tokenizer used; pass the same id when loading the shards
   * @param inputFiles text files read
   * @param inputBytes their total size
   * @param tokens tokens written over all shards
   * @param shards shard files written (empty input files give none)
   */
  public record Summary(
      String outputDir, String tokenizerId, int inputFiles, long inputBytes, long tokens,
      long shards) {}

  /** {@link #tokenizeToShards(JavaSparkContext, String, String, Tokenizer, long)} in the Spark application of a job. */
  public static Summary tokenizeToShards(SparkJob job, String input, String outputDir, Tokenizer tokenizer,
      long tokensPerShard) throws IOException {
    return tokenizeToShards(job.sparkContext(), input, outputDir, tokenizer, tokensPerShard);
  }

  /**
   * Reads a TEXT corpus (file, directory or glob on any Hadoop FileSystem), tokenizes it on
   * the executors and writes llm.c shards into {@code outputDir}. Each shard is written to a
   * hidden temp name and renamed, so a failed or retried task never leaves a partial shard
   * under a final name.
   *
   * @param tokenizer must have at most 65536 ids (uint16); both built-in ones do
   * @param tokensPerShard at most this many tokens per shard, {@code 1..2^31-1}; default
   *     {@link #DEFAULT_TOKENS_PER_SHARD}
   * @throws IllegalArgumentException for a missing input, an empty corpus, an output directory
   *     that already holds files, or bad arguments
   */
  public static Summary tokenizeToShards(
      JavaSparkContext sc, String input, String outputDir, Tokenizer tokenizer,
      long tokensPerShard) throws IOException {
    if (tokenizer.vocabSize() > TokenShardWriter.MAX_TOKEN + 1) {
      throw new IllegalArgumentException(
          "tokenizer '" + tokenizer.id() + "' has " + tokenizer.vocabSize()
              + " ids; uint16 shards hold at most " + (TokenShardWriter.MAX_TOKEN + 1));
    }
    if (tokensPerShard < 1 || tokensPerShard > TokenShardWriter.MAX_TOKENS_PER_SHARD) {
      throw new IllegalArgumentException(
          "tokensPerShard: expected 1.." + TokenShardWriter.MAX_TOKENS_PER_SHARD + " (default "
              + DEFAULT_TOKENS_PER_SHARD + "), found " + tokensPerShard);
    }
    Configuration hconf = sc.hadoopConfiguration();
    List<FileStatus> files = InputFiles.resolve(hconf, input);
    String outDir = prepareOutput(hconf, outputDir);
    List<String> paths = new ArrayList<>(files.size());
    long bytes = 0;
    for (FileStatus f : files) {
      paths.add(f.getPath().toString());
      bytes += f.getLen();
    }
    LOG.info("tokenizing input={} files={} bytes={} tokenizer={} output={} tokensPerShard={}",
        input, paths.size(), bytes, tokenizer.id(), outDir, tokensPerShard);

    HadoopSettings hadoop = HadoopSettings.of(hconf);
    String tokenizerId = tokenizer.id();
    List<long[]> perFile;
    try {
      List<String> filePaths = List.copyOf(paths);
      perFile = CorpusLoader.fileIndices(sc, filePaths.size())
          .map(f -> writeShards(hadoop.toConfiguration(), outDir, tokenizerId, f,
              FileTokens.read(hadoop.toConfiguration(), f, filePaths.get(f), DatasetSpec.Format.TEXT, tokenizer, 1),
              tokensPerShard))
          .collect();
    } catch (Exception e) { // a SparkException, which javac cannot name here
      throw TaskFailures.unwrap(input, e);
    }
    long tokens = 0;
    long shards = 0;
    for (long[] r : perFile) {
      tokens += r[0];
      shards += r[1];
    }
    if (tokens == 0) {
      throw new IllegalArgumentException(
          "corpus at '" + input + "' is empty: " + paths.size() + " file(s), 0 tokens; no shard"
              + " was written to " + outDir + "; point the input at a non-empty corpus");
    }
    Summary summary =
        new Summary(outDir, tokenizer.id(), paths.size(), bytes, tokens, shards);
    LOG.info("tokenized {}", summary);
    return summary;
  }

  /** Name of part {@code part} of input file {@code fileIndex}. */
  static String shardName(int fileIndex, long part) {
    return String.format("shard-%09d-%010d.bin", fileIndex, part);
  }

  /**
   * Writes one file's shards from its blocks, holding at most one shard's tokens; returns {tokens,
   * shards}. A block's first {@link TokenBlock#newTokens} tokens are the ones it adds to the file.
   */
  private static long[] writeShards(Configuration conf, String outDir, String tokenizerId, int fileIndex,
      Iterator<TokenBlock> blocks, long tokensPerShard) throws IOException {
    int[] shard = new int[0];
    int filled = 0;
    long tokens = 0;
    long parts = 0;
    while (blocks.hasNext()) {
      TokenBlock block = blocks.next();
      int[] t = block.tokens();
      int from = 0;
      while (from < block.newTokens()) {
        if (filled == tokensPerShard) {
          writeShard(conf, outDir, tokenizerId, shardName(fileIndex, parts++), shard, filled);
          filled = 0;
        }
        int n = (int) Math.min(tokensPerShard - filled, block.newTokens() - from);
        if (filled + n > shard.length) {
          shard = Arrays.copyOf(shard, (int) Math.min(tokensPerShard, Math.max(filled + n, 2L * shard.length)));
        }
        System.arraycopy(t, from, shard, filled, n);
        filled += n;
        from += n;
        tokens += n;
      }
    }
    if (filled > 0) {
      writeShard(conf, outDir, tokenizerId, shardName(fileIndex, parts++), shard, filled);
    }
    return new long[] {tokens, parts};
  }

  /**
   * Writes {@code tokens[0, length)} as shard {@code name} of {@code outDir}, made by tokenizer
   * {@code tokenizerId}, replacing an earlier attempt's. The header records the tokens' CRC-32C, so
   * it is computed over the whole shard (already in memory) before the first byte is written.
   */
  private static void writeShard(Configuration conf, String outDir, String tokenizerId, String name, int[] tokens,
      int length) throws IOException {
    Path dir = new Path(outDir);
    FileSystem fs = dir.getFileSystem(conf);
    Path tmp = new Path(dir, "." + name + ".tmp");
    Path target = new Path(dir, name);
    try (TokenShardWriter w = TokenShardWriter.create(conf, tmp, tokenizerId, length,
        TokenShardWriter.checksum(tokens, 0, length), true)) {
      w.write(tokens, 0, length);
    }
    // A retried task rewrites identical content: replace what an earlier attempt renamed.
    fs.delete(target, false);
    if (!fs.rename(tmp, target)) {
      throw new IOException(
          "could not rename shard " + tmp + " to " + target + "; check permissions on "
              + outDir + " and run the tokenize job again into an empty directory");
    }
  }

  /** Creates the output directory; refuses one that already holds visible files. */
  private static String prepareOutput(Configuration conf, String outputDir) throws IOException {
    Path out = new Path(outputDir);
    FileSystem fs = out.getFileSystem(conf);
    if (fs.exists(out)) {
      if (!fs.getFileStatus(out).isDirectory()) {
        throw new IllegalArgumentException(
            "output '" + outputDir + "' is a file; expected an empty or missing directory");
      }
      int visible = 0;
      for (FileStatus s : fs.listStatus(out)) {
        String name = s.getPath().getName();
        if (!name.startsWith(".") && !name.startsWith("_")) {
          visible++;
        }
      }
      if (visible > 0) {
        throw new IllegalArgumentException(
            "output directory '" + outputDir + "' already holds " + visible + " entr(y/ies);"
                + " expected an empty or missing directory so that old shards do not mix with"
                + " new ones; delete it or choose another");
      }
    } else if (!fs.mkdirs(out)) {
      throw new IOException("could not create output directory '" + outputDir + "'");
    }
    return fs.makeQualified(out).toString();
  }
}
