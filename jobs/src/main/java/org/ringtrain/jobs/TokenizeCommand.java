// `ringtrain tokenize`: turn a text corpus into llm.c-format uint16 token
// shards once, so that large training runs need not tokenize on every start.
package org.ringtrain.jobs;

import java.util.concurrent.Callable;
import org.ringtrain.driver.data.TokenShards;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.launch.SparkJobConf;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Tokenizes a corpus into shards. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
    description = "Tokenize a text corpus into llm.c uint16 shards (train with format: shards).",
    footer = {"", "Examples:",
        "  ringtrain tokenize --input data/moby-dick.txt --output target/shards/moby --tokenizer gpt2",
        "  ringtrain tokenize --input 'hdfs:///corpora/web/*.txt' --output hdfs:///shards/web --partitions 64"})
final class TokenizeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(TokenizeCommand.class);

  @Option(names = "--input", required = true, description = "text corpus: file, directory or glob")
  String input;

  @Option(names = "--output", required = true, description = "empty output directory for the shards")
  String output;

  @Option(names = "--tokenizer", defaultValue = "byte", description = "byte or gpt2 (default ${DEFAULT-VALUE})")
  String tokenizer;

  @Option(names = "--tokens-per-shard", defaultValue = "100000000",
      description = "largest shard, in tokens (default ${DEFAULT-VALUE})")
  long tokensPerShard;

  @Option(names = "--partitions", defaultValue = "2", description = "local slots when run outside spark-submit")
  int partitions;

  @Override
  public Integer call() throws Exception {
    Tokenizer t = Tokenizer.forId(tokenizer);
    try (SparkJob job = SparkJobConf.of("ringtrain tokenize", partitions).start()) {
      TokenShards.Summary s = TokenShards.tokenizeToShards(job, input, output, t, tokensPerShard);
      LOG.info("tokenized {} files ({} bytes) into {} tokens in {} shards under {}", s.inputFiles(), s.inputBytes(),
          s.tokens(), s.shards(), s.outputDir());
      return 0;
    }
  }
}
