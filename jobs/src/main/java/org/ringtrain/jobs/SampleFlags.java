// The sample a GPT training job writes after training (train, distill): how many tokens, from
// which prompt, as one picocli mixin. It does not train or load a model.
package org.ringtrain.jobs;

import org.ringtrain.driver.gpt.TrainedGpt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** The --sample-tokens and --prompt flags, and the sample they ask for. */
final class SampleFlags {
  private static final Logger LOG = LoggerFactory.getLogger(SampleFlags.class);

  @Option(names = "--sample-tokens", defaultValue = "200", description = "tokens to generate after training (default ${DEFAULT-VALUE}; 0 = none)")
  int sampleTokens;

  @Option(names = "--prompt", defaultValue = "The whale", description = "prompt of the sample (default '${DEFAULT-VALUE}')")
  String prompt;

  /** Logs a sample of {@code model} (temperature 0.8, top-k 40, from {@code seed}), unless --sample-tokens is 0. */
  void logSample(TrainedGpt model, long seed) {
    if (sampleTokens > 0) {
      LOG.info("sample:\n{}", model.generate(prompt, sampleTokens, 0.8, 40, seed));
    }
  }
}
