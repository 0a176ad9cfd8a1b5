// The training flags of the train and distill jobs: corpus, checkpoint directory, steps,
// ranks, resume, --set overrides, as one picocli mixin that turns them into the flags layer of the
// flat settings. It reads no config file and validates nothing: the config records do.
package org.ringtrain.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Training flags as a settings layer ({@link #layer()}), later than the --config file's. */
final class RunFlags {

  @Option(names = "--input", description = "corpus: a file, directory or glob on any Hadoop filesystem")
  String input;

  @Option(names = "--checkpoint-dir", description = "where checkpoints and metrics.jsonl go")
  String checkpointDir;

  @Option(names = "--steps", description = "optimizer steps")
  Long steps;

  @Option(names = "--world-size", description = "ranks (one Spark task each)")
  Integer worldSize;

  @Option(names = "--resume", description = "continue from the newest valid checkpoint")
  boolean resume;

  @Option(names = "--unsafe-keep-one", description = "allow keepCheckpoints=1: one corrupt checkpoint then loses the"
      + " run's progress")
  boolean unsafeKeepOne;

  @Option(names = "--set", description = "any other setting, key=value (repeatable)")
  List<String> settings = new ArrayList<>();

  /** The flags given, keyed by flat setting; --set pairs last. */
  Map<String, Object> layer() {
    return layer(Map.of());
  }

  /** As {@link #layer()}, with a command's own flags ({@code extra}, flat settings) before the --set pairs. */
  Map<String, Object> layer(Map<String, Object> extra) {
    Map<String, Object> flags = new LinkedHashMap<>();
    if (input != null) {
      flags.put("input", input);
    }
    if (checkpointDir != null) {
      flags.put("checkpointDir", checkpointDir);
    }
    if (steps != null) {
      flags.put("steps", steps);
    }
    if (worldSize != null) {
      flags.put("worldSize", worldSize);
    }
    if (resume) {
      flags.put("resume", true);
    }
    if (unsafeKeepOne) {
      flags.put("unsafeKeepOne", true);
    }
    flags.putAll(extra);
    flags.putAll(ConfigFiles.pairs(settings));
    return flags;
  }
}
