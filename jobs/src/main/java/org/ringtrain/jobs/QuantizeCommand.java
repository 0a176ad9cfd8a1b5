// `ringtrain quantize`: a GPT checkpoint to an int8 weight-only model file for
// generate/evaluate --weights. Runs on the driver alone; no Spark context is needed.
package org.ringtrain.jobs;

import java.util.concurrent.Callable;
import org.ringtrain.driver.gpt.QuantizedGpt;
import org.ringtrain.driver.launch.SparkJobConf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Quantises the newest checkpoint of a run to int8, one float32 scale per output channel.
 *
 * <pre>
 * spark-submit --class org.ringtrain.jobs.RingtrainCli ringtrain.jar quantize \
 *     --checkpoint-dir target/runs/moby --output target/moby-int8.safetensors
 * </pre>
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
    description = {"Quantise a GPT checkpoint to an int8 weight-only model (safetensors): every matmul weight",
        "int8 with one float32 scale per output channel, biases and layer norms float32.",
        "generate and evaluate read it with --weights; it cannot be trained from."},
    footer = {"", "Examples:",
        "  ringtrain quantize --checkpoint-dir target/runs/moby --output target/moby-int8.safetensors",
        "  ringtrain quantize --checkpoint-dir hdfs:///runs/r1 --output hdfs:///models/r1-int8.safetensors --embeddings",
        "  ringtrain generate --weights target/moby-int8.safetensors --prompt 'Call me Ishmael' --tokens 200"})
final class QuantizeCommand implements Callable<Integer> {

  @Option(names = "--checkpoint-dir", required = true, description = "a run's checkpoint directory (its newest valid checkpoint is read)")
  String checkpointDir;

  @Option(names = "--output", required = true, description = "the int8 model file to write; must not exist")
  String output;

  @Option(names = "--embeddings", description = "quantise the token and position embeddings too (default: keep them float32)")
  boolean embeddings;

  @Override
  public Integer call() throws Exception {
    QuantizedGpt.Summary s = QuantizedGpt.quantize(checkpointDir, output, embeddings,
        SparkJobConf.of("ringtrain quantize", 1).hadoopSettings());
    // The summary is this command's output.
    System.out.printf("quantised %s (step %d) to %s%n", s.checkpoint(), s.step(), s.output());
    System.out.printf("float32 %d bytes, int8 %d bytes, ratio %.3f%s%n", s.floatBytes(), s.int8Bytes(), s.ratio(),
        s.embeddings() ? " (embeddings int8 too)" : "");
    return 0;
  }
}
