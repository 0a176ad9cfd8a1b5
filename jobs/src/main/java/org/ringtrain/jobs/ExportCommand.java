// `ringtrain export`: writes a trained model as a Hugging Face GPT-2 directory
// (model.safetensors + config.json). Runs on the driver alone; no Spark
// context is needed.
package org.ringtrain.jobs;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.driver.launch.SparkJobConf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Exports the newest checkpoint of a run as plain GPT-2 weights. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Write a run's model as a Hugging Face GPT-2 directory: model.safetensors and config.json.",
    footer = {"", "A LoRA run's checkpoints hold adapters only: --merge folds them into the base weights, so the",
        "result loads like any GPT-2 file (--init-from, --weights, transformers' from_pretrained).", "",
        "Examples:",
        "  ringtrain export --checkpoint-dir target/runs/moby --output target/models/moby",
        "  ringtrain export --checkpoint-dir target/runs/lora --merge --output target/models/lora-merged"})
final class ExportCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ExportCommand.class);

  @Option(names = "--checkpoint-dir", required = true, description = "a run's checkpoint directory")
  String checkpointDir;

  @Option(names = "--output", required = true, description = "a new or empty local directory")
  String output;

  @Option(names = "--merge", description = "fold a LoRA run's adapters into its base weights (required for LoRA runs)")
  boolean merge;

  @Override
  public Integer call() throws Exception {
    TrainedGpt model = TrainedGpt.load(checkpointDir, SparkJobConf.of("ringtrain export", 1).hadoopSettings());
    if (model.config().finetune().lora() && !merge) {
      throw new IllegalArgumentException(checkpointDir + " holds LoRA adapters (finetune=lora), not a whole model;"
          + " pass --merge to fold them into the base weights (" + model.config().finetune().initFrom() + ")");
    }
    Path file = model.export(Path.of(output));
    LOG.info("exported step {} of {} to {} (and config.json beside it)", model.step(), model.checkpoint(), file);
    return 0;
  }
}
