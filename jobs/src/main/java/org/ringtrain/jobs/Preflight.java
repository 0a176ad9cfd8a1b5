// Checks a job can make before starting Spark: does the input exist and hold
// enough data, can the checkpoint directory be written, do the local slots
// suffice. Every failure is an IllegalArgumentException that says what to do.
package org.ringtrain.jobs;

import java.io.IOException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.train.GptTrainer;
import org.ringtrain.driver.train.TrainConfig;

/** Pre-Spark validation of a training run. */
final class Preflight {
  private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)(?:,\\s*\\d+)?]");

  private Preflight() {
  }

  /** Checks a training run; {@code hadoop} are the job's Hadoop settings (see SparkContexts.hadoopSettings). */
  static void check(TrainConfig cfg, String master, Map<String, String> hadoop) {
    checkInput(cfg, hadoop);
    try {
      GptTrainer.checkCheckpointDir(cfg, hadoop);
    } catch (IOException e) {
      throw new IllegalArgumentException("checkpointDir " + cfg.checkpointDir() + " is not usable: "
          + e.getMessage() + "; choose a directory you can write", e);
    }
    if (master != null) {
      Matcher m = LOCAL.matcher(master);
      if (m.matches() && !"*".equals(m.group(1)) && Integer.parseInt(m.group(1)) < cfg.worldSize()) {
        throw new IllegalArgumentException("worldSize=" + cfg.worldSize() + " needs " + cfg.worldSize()
            + " task slots but master " + master + " has " + m.group(1) + "; use local[" + cfg.worldSize() + "]");
      }
    }
  }

  /** The corpus exists, is not empty and, for byte tokens, holds at least one sequence. */
  static void checkInput(TrainConfig cfg, Map<String, String> hadoop) {
    Path path = new Path(cfg.input());
    long bytes = 0;
    try {
      Configuration conf = new Configuration();
      hadoop.forEach(conf::set);
      FileSystem fs = path.getFileSystem(conf);
      FileStatus[] matches = fs.globStatus(path);
      if (matches == null || matches.length == 0) {
        throw new IllegalArgumentException("input " + cfg.input() + " does not exist; give a file, a directory "
            + "or a glob on any Hadoop filesystem");
      }
      for (FileStatus match : matches) {
        bytes += fs.getContentSummary(match.getPath()).getLength();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read input " + cfg.input() + ": " + e.getMessage(), e);
    }
    if (bytes == 0) {
      throw new IllegalArgumentException("input " + cfg.input() + " is empty; point it at a text corpus");
    }
    if ("text".equals(cfg.format()) && "byte".equals(cfg.tokenizer()) && bytes < cfg.contextLength() + 1L) {
      throw new IllegalArgumentException("input " + cfg.input() + " holds " + bytes + " bytes, fewer than one "
          + "sequence of contextLength+1=" + (cfg.contextLength() + 1) + " tokens; use a larger corpus or a "
          + "smaller contextLength");
    }
  }
}
