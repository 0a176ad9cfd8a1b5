/*
 * TrainingPreflight: what a GPT training or evaluation run checks before Spark starts: the corpus
 * exists and holds at least one sequence, the checkpoint directory can be written (and holds no
 * earlier run's checkpoints unless resuming), and a local master has a slot per rank. Every
 * failure is an IllegalArgumentException that says what to do. It does not check the cluster's
 * slots (DataParallelTrainer does, once Spark runs) or read the corpus.
 */
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.Preflight;
import org.ringtrain.driver.tokenize.TokenizerKind;
import org.ringtrain.driver.train.DataParallelTrainer;

/** Pre-Spark validation of a training run. */
public final class TrainingPreflight {
  private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)(?:,\\s*\\d+)?]");

  private TrainingPreflight() {
  }

  /**
   * Checks a training run: {@link #checkInput}, then the checkpoint directory
   * ({@link GptTrainer#checkCheckpointDir}), then that a {@code local[N]} master has
   * {@code N >= worldSize} slots.
   *
   * @param master the Spark master the run will use, or null when not known (no slot check)
   * @param hadoop the Hadoop settings the run will use
   * @throws IllegalArgumentException for the first check that fails, saying what to do
   */
  public static void check(TrainConfig cfg, String master, HadoopSettings hadoop) {
    checkInput(cfg, hadoop);
    try {
      GptTrainer.checkCheckpointDir(cfg, hadoop);
    } catch (IOException e) {
      throw new IllegalArgumentException("checkpointDir " + cfg.loop().checkpoints().checkpointDir() + " is not usable: "
          + e.getMessage() + "; choose a directory you can write", e);
    }
    if (master != null) {
      Matcher m = LOCAL.matcher(master);
      if (m.matches() && !"*".equals(m.group(1)) && Integer.parseInt(m.group(1)) < cfg.loop().worldSize()) {
        throw new IllegalArgumentException("worldSize=" + cfg.loop().worldSize() + " needs " + cfg.loop().worldSize()
            + " task slots but master " + master + " has " + m.group(1) + "; use local[" + cfg.loop().worldSize() + "]");
      }
    }
  }

  /**
   * The corpus {@code cfg.input()} exists, is not empty and, for text read with byte tokens, holds
   * at least one sequence of {@code contextLength + 1} tokens.
   *
   * @throws IllegalArgumentException otherwise, saying what was found
   */
  public static void checkInput(TrainConfig cfg, HadoopSettings hadoop) {
    long bytes = Preflight.requireInput(cfg.input(), hadoop);
    if (cfg.format() == DatasetSpec.Format.TEXT && cfg.tokenizer() == TokenizerKind.BYTE && bytes < cfg.contextLength() + 1L) {
      throw new IllegalArgumentException("input " + cfg.input() + " holds " + bytes + " bytes, fewer than one "
          + "sequence of contextLength+1=" + (cfg.contextLength() + 1) + " tokens; use a larger corpus or a "
          + "smaller contextLength");
    }
  }
}
