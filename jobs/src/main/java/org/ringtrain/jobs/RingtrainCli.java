// The `ringtrain` command line: one entry point with a subcommand per job.
// Thin by design: parse, build the config record, call the driver, stop Spark.
package org.ringtrain.jobs;

import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * Entry point of every ringtrain job.
 *
 * <pre>
 * spark-submit --class org.ringtrain.jobs.RingtrainCli ringtrain-jobs.jar train \
 *     --config conf/tiny.yaml --input hdfs:///corpora/moby-dick.txt --checkpoint-dir hdfs:///runs/moby1
 * </pre>
 */
@Command(name = "ringtrain", mixinStandardHelpOptions = true, version = "ringtrain 0.1.0",
    description = "Data-parallel GPT and text-classifier training on Apache Spark.",
    subcommands = {TrainCommand.class, DistillCommand.class, GenerateCommand.class, EvaluateCommand.class,
        QuantizeCommand.class, TokenizeCommand.class, PlotCommand.class, TrainClassifierCommand.class,
        ClassifyCommand.class, ExportCommand.class, ServeCommand.class},
    footer = {"", "Examples:",
        "  ringtrain train --config conf/tiny.yaml --input data/moby-dick.txt --checkpoint-dir target/runs/moby",
        "  ringtrain distill --config conf/student.yaml --teacher target/runs/small --input data/moby-dick.txt \\",
        "      --checkpoint-dir target/runs/student",
        "  ringtrain generate --checkpoint-dir target/runs/moby --prompt 'Call me' --tokens 200",
        "  ringtrain evaluate --checkpoint-dir target/runs/moby --input data/moby-dick.txt",
        "  ringtrain quantize --checkpoint-dir target/runs/moby --output target/moby-int8.safetensors",
        "  ringtrain generate --weights gpt2/model.safetensors --prompt 'Hello' --tokens 50",
        "  ringtrain export --checkpoint-dir target/runs/lora --merge --output target/models/lora",
        "  ringtrain tokenize --input data/moby-dick.txt --output target/shards --tokenizer gpt2",
        "  ringtrain train-classifier --input data/sentiment/sentences.jsonl --model-dir target/models/sentiment",
        "  ringtrain classify --model-dir target/models/sentiment --input data/sentiment/sentences.jsonl \\",
        "      --output target/predictions.json --explain 3",
        "  ringtrain serve --checkpoint-dir target/runs/moby --model-dir sentiment=target/models/sentiment"})
public final class RingtrainCli implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit status (0 ok, 2 usage or config error, 1 failure). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new RingtrainCli());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof IllegalArgumentException) {
        cmd.getErr().println("ringtrain: " + e.getMessage());
        cmd.getErr().println("Run 'ringtrain " + cmd.getCommandName() + " --help' for the options and examples.");
        return 2;
      }
      throw e;
    });
    return cli.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
