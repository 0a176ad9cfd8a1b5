// `ringtrain generate`: continue a prompt with a trained model. Runs on the
// driver alone; no Spark context is needed.
package org.ringtrain.jobs;

import java.util.concurrent.Callable;
import org.ringtrain.driver.gpt.InferenceGpt;
import org.ringtrain.driver.launch.SparkJobConf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Generates text from the newest checkpoint of a run. */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Continue a prompt with the model in a checkpoint directory or a GPT-2 safetensors file.",
    footer = {"", "Examples:",
        "  ringtrain generate --checkpoint-dir target/runs/moby --prompt 'Call me Ishmael' --tokens 300",
        "  ringtrain generate --checkpoint-dir hdfs:///runs/r1 --prompt 'The sea' --temperature 0 # greedy",
        "  ringtrain generate --weights gpt2/model.safetensors --prompt 'Hello, I am' --tokens 40 # config.json beside it",
        "  ringtrain generate --weights target/moby-int8.safetensors --prompt 'Call me Ishmael' # int8 (ringtrain quantize)"})
final class GenerateCommand implements Callable<Integer> {
  /** Most tokens one run generates: 1,000,000 (the output and its token ids are held in memory). */
  static final int MAX_TOKENS = 1_000_000;

  @Mixin
  ModelSource source = new ModelSource();

  @Option(names = "--prompt", defaultValue = "\n", description = "text to continue")
  String prompt;

  @Option(names = "--tokens", defaultValue = "200", description = "tokens to generate, 1 to 1000000 (default ${DEFAULT-VALUE})")
  int tokens;

  @Option(names = "--temperature", defaultValue = "0.8", description = "0 = greedy (default ${DEFAULT-VALUE})")
  double temperature;

  @Option(names = "--top-k", defaultValue = "40", description = "sample among the K most likely; 0 = all (default ${DEFAULT-VALUE})")
  int topK;

  @Option(names = "--seed", defaultValue = "1337", description = "sampling seed (default ${DEFAULT-VALUE})")
  long seed;

  @Override
  public Integer call() throws Exception {
    if (tokens < 1 || tokens > MAX_TOKENS) {
      throw new IllegalArgumentException("--tokens must be between 1 and " + MAX_TOKENS + ", but found " + tokens
          + "; generate a long text in several runs, each continuing the last one's output");
    }
    // The Hadoop settings spark-submit would give a job (spark.hadoop.*); no Spark starts.
    InferenceGpt model = source.load(SparkJobConf.of("ringtrain generate", 1).hadoopSettings());
    // The generated text is this command's output.
    System.out.println(model.generate(prompt, tokens, temperature, topK, seed));
    return 0;
  }
}
