/*
 * TrainingPreflight: what a GPT training or evaluation run checks before Spark starts: the corpus
 * exists and holds at least one sequence (and, for byte-tokenized text, a micro-batch per rank),
 * the checkpoint directory can be written (and holds no earlier run's checkpoints unless resuming),
 * a resumed run has the checkpoint's model shape, a local master has a slot per rank, the thread
 * counts fit the cores and the ring timeout outlasts a checkpoint write. Once the corpus is loaded,
 * checkLoaded repeats the micro-batch check with the exact counts, before the training stage.
 * Every failure is an IllegalArgumentException that says what to do. It does not check the
 * cluster's slots (DataParallelTrainer does, once Spark runs) or read the corpus's contents.
 */
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.config.FlatSettings;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.SplitPlan;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.InputFiles;
import org.ringtrain.driver.fs.Preflight;
import org.ringtrain.driver.tokenize.TokenizerKind;
import org.ringtrain.driver.train.DataParallelTrainer;
import org.ringtrain.driver.train.LoopConfig;
import org.ringtrain.driver.train.ThreadSettings;
import org.ringtrain.ops.gpt.GptModel;

/** Pre-Spark validation of a training run. */
public final class TrainingPreflight {
  /** Shortest ring timeout any run may use, seconds: 30. */
  public static final int MIN_RING_TIMEOUT_SECONDS = 30;
  /** Disk rate assumed for a checkpoint write, bytes per second: 20 MB/s, a slow shared disk. */
  public static final long CHECKPOINT_BYTES_PER_SECOND = 20_000_000L;
  /** Bytes a checkpoint holds per parameter: float32 weights plus AdamW's two float32 moments. */
  static final int CHECKPOINT_BYTES_PER_PARAMETER = 12;
  /** The settings that fix a GPT's parameter layout, which a resumed run must share with its checkpoints. */
  private static final List<String> SHAPE = List.of("contextLength", "dModel", "layers", "heads", "tokenizer");
  private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\d+|\\*)(?:,\\s*\\d+)?])?");

  private TrainingPreflight() {
  }

  /**
   * Checks a training run: {@link #checkInput}, for byte-tokenized text that the training
   * sequences hold one step's global batch (the split the file sizes give), {@link #checkRingTimeout}, the checkpoint
   * directory ({@link GptTrainer#checkCheckpointDir}), {@link #checkResumeShape}, then that a
   * {@code local[N]} master has {@code N >= worldSize} slots and {@link #checkThreads}.
   *
   * @param master the Spark master the run will use, or null when not known (no slot or core check)
   * @param hadoop the Hadoop settings the run will use
   * @throws IllegalArgumentException for the first check that fails, saying what to do
   */
  public static void check(TrainConfig cfg, String master, HadoopSettings hadoop) {
    checkInput(cfg, hadoop);
    checkSplit(cfg, hadoop);
    checkRun(cfg, master, hadoop);
  }

  /**
   * The checks of {@link #check} that do not read the input: the ring timeout, the checkpoint
   * directory, the shape of a run to resume, the master's slots and threads. For input that is not
   * a corpus path (a Dataset: {@link GptEstimator}).
   *
   * @throws IllegalArgumentException for the first check that fails, saying what to do
   */
  public static void checkRun(TrainConfig cfg, String master, HadoopSettings hadoop) {
    checkRingTimeout(cfg);
    try {
      QuantizedGpt.refuseTraining(cfg.loop().checkpoints().checkpointDir(), hadoop);
      GptTrainer.checkCheckpointDir(cfg, hadoop);
    } catch (IOException e) {
      throw new IllegalArgumentException("checkpointDir " + cfg.loop().checkpoints().checkpointDir() + " is not usable: "
          + e.getMessage() + "; choose a directory you can write", e);
    }
    checkResumeShape(cfg, hadoop);
    checkSlots(cfg, master);
  }

  /**
   * A {@code local[N]} master has {@code N >= worldSize} slots, and {@link #checkThreads}. Writes
   * nothing.
   *
   * @param master the Spark master the run will use, or null when not known (no check)
   * @throws IllegalArgumentException when a check fails, saying what to do
   */
  public static void checkSlots(TrainConfig cfg, String master) {
    if (master != null) {
      Matcher m = LOCAL.matcher(master);
      if (m.matches() && m.group(1) != null && !"*".equals(m.group(1))
          && Integer.parseInt(m.group(1)) < cfg.loop().worldSize()) {
        throw new IllegalArgumentException("worldSize=" + cfg.loop().worldSize() + " needs " + cfg.loop().worldSize()
            + " task slots but master " + master + " has " + m.group(1) + "; use local[" + cfg.loop().worldSize() + "]");
      }
      checkThreads(cfg.loop().threads(), master);
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
    if (byteText(cfg) && bytes < cfg.contextLength() + 1L) {
      throw new IllegalArgumentException("input " + cfg.input() + " holds " + bytes + " bytes, fewer than one "
          + "sequence of contextLength+1=" + (cfg.contextLength() + 1) + " tokens; use a larger corpus or a "
          + "smaller contextLength");
    }
  }

  private static boolean byteText(TrainConfig cfg) {
    return cfg.format() == DatasetSpec.Format.TEXT && cfg.tokenizer() == TokenizerKind.BYTE;
  }

  /**
   * For text read with byte tokens (one token per byte, so the file sizes give the exact split):
   * the corpus gives the training sequences of one step (its global batch).
   */
  private static void checkSplit(TrainConfig cfg, HadoopSettings hadoop) {
    if (!byteText(cfg)) {
      return;
    }
    List<FileStatus> files;
    try {
      files = InputFiles.resolve(hadoop.toConfiguration(), cfg.input());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot list input " + cfg.input() + ": " + e.getMessage(), e);
    }
    long[] tokensPerFile = new long[files.size()];
    for (int f = 0; f < tokensPerFile.length; f++) {
      tokensPerFile[f] = files.get(f).getLen();
    }
    SplitPlan plan = SplitPlan.of(cfg.input(), tokensPerFile, cfg.contextLength(), cfg.validationFraction(),
        cfg.loop().worldSize());
    checkMicroBatch(cfg, plan.trainSequences());
  }

  /**
   * The loaded corpus gives at least one step's global batch of training sequences: the check
   * {@link #check} can make from file sizes only for byte-tokenized text. Call it after
   * {@link org.ringtrain.driver.data.CorpusLoader#load} and before the training stage.
   *
   * @throws IllegalArgumentException if one step's global batch (worldSize x microBatch x
   *                                  gradAccumSteps) exceeds the training sequences
   */
  public static void checkLoaded(TrainConfig cfg, TrainingData data) {
    checkMicroBatch(cfg, data.trainSequences());
  }

  private static void checkMicroBatch(TrainConfig cfg, long trainSequences) {
    LoopConfig loop = cfg.loop();
    if (trainSequences < loop.rowsPerStep()) {
      throw new IllegalArgumentException("one step needs worldSize=" + loop.worldSize() + " x microBatch="
          + loop.microBatch() + " x gradAccumSteps=" + loop.gradAccumSteps() + " = " + loop.rowsPerStep()
          + " training sequences, but " + cfg.input() + " at contextLength=" + cfg.contextLength() + " gives "
          + trainSequences + "; use a smaller microBatch or gradAccumSteps, fewer ranks, a smaller contextLength"
          + " or a larger corpus");
    }
  }

  /**
   * A resumed run has the model shape of the newest checkpoint it resumes from: the same
   * contextLength, dModel, layers, heads and tokenizer (the settings its weights depend on). Reads
   * only that checkpoint's state.json; a directory without checkpoints passes. At another world
   * size, worldSize x microBatch must divide the checkpoint's global batch
   * ({@link DataParallelTrainer#resumeGradAccumSteps}).
   *
   * @throws IllegalArgumentException naming every setting that differs, with both values, or the
   *                                  global batch that the new world size cannot keep
   */
  public static void checkResumeShape(TrainConfig cfg, HadoopSettings hadoop) {
    String dir = cfg.loop().checkpoints().checkpointDir();
    if (!cfg.loop().checkpoints().resume()) {
      return;
    }
    Optional<TrainingState> state;
    try {
      state = new CheckpointStore(hadoop, dir).latestState();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot resume: the newest checkpoint in " + dir + " cannot be read: "
          + e.getMessage() + "; repair the directory or start in an empty one", e);
    }
    if (state.isEmpty() || state.get().configJson().isBlank()) {
      return;
    }
    Map<String, Object> saved = new LinkedHashMap<>(TrainConfig.defaults());
    saved.putAll(FlatSettings.fromJson(state.get().configJson(), "checkpoint config"));
    saved.put("tokenizer", state.get().tokenizerId());
    Map<String, Object> now = FlatSettings.write(cfg);
    List<String> differences = new ArrayList<>();
    for (String key : SHAPE) {
      String was = String.valueOf(saved.get(key)).toLowerCase(Locale.ROOT);
      String is = String.valueOf(now.get(key)).toLowerCase(Locale.ROOT);
      if (!was.equals(is)) {
        differences.add(key + " " + was + " in the checkpoint, " + is + " now");
      }
    }
    if (!differences.isEmpty()) {
      throw new IllegalArgumentException("cannot resume: the checkpoints in " + dir + " hold another model shape ("
          + String.join("; ", differences) + "); resume with the checkpoint's settings, or start in an empty"
          + " directory to train the new shape");
    }
    DataParallelTrainer.resumeGradAccumSteps(cfg.loop(), state.get()); // another world size keeps the global batch
  }

  /**
   * Thread counts fit the cores a rank can use: on a local master (every rank in this JVM) at most
   * this machine's available processors; on a cluster at most {@code spark.executor.cores} when that
   * system property (what spark-submit passes) is set. 0 always passes (it follows spark.task.cpus).
   *
   * @param master the Spark master the run will use, e.g. {@code local[2,4]}; not null
   * @throws IllegalArgumentException naming the setting, the value and the cores found
   */
  public static void checkThreads(ThreadSettings threads, String master) {
    int cores;
    String where;
    if (LOCAL.matcher(master).matches()) {
      cores = Runtime.getRuntime().availableProcessors();
      where = "this machine, where master " + master + " runs every rank,";
    } else {
      String executorCores = System.getProperty("spark.executor.cores");
      if (executorCores == null || !executorCores.trim().matches("\\d+")) {
        return;
      }
      cores = Integer.parseInt(executorCores.trim());
      where = "an executor (spark.executor.cores)";
    }
    requireWithinCores("threadsPerRank", threads.threadsPerRank(), cores, where);
    requireWithinCores("opThreadsPerRank", threads.opThreadsPerRank(), cores, where);
  }

  private static void requireWithinCores(String key, int threads, int cores, String where) {
    if (threads > cores) {
      throw new IllegalArgumentException(key + "=" + threads + " is more threads than the " + cores
          + " cores of " + where + " has; use at most " + cores + ", or 0 to follow spark.task.cpus");
    }
  }

  /**
   * The ring timeout outlasts a checkpoint write, during which the other ranks wait in the ring:
   * {@code ringTimeoutSeconds >= max(}{@value #MIN_RING_TIMEOUT_SECONDS}{@code , 2 x write time)},
   * where the write time is {@link #checkpointBytes} at {@value #CHECKPOINT_BYTES_PER_SECOND} bytes/s.
   *
   * @throws IllegalArgumentException stating the rule, the estimate and the value found
   */
  public static void checkRingTimeout(TrainConfig cfg) {
    long bytes = checkpointBytes(cfg);
    long writeSeconds = (bytes + CHECKPOINT_BYTES_PER_SECOND - 1) / CHECKPOINT_BYTES_PER_SECOND;
    long needed = Math.max(MIN_RING_TIMEOUT_SECONDS, 2 * writeSeconds);
    int timeout = cfg.loop().ring().ringTimeoutSeconds();
    if (timeout < needed) {
      throw new IllegalArgumentException("ringTimeoutSeconds=" + timeout + " is shorter than a checkpoint may take:"
          + " expected at least " + needed + " s (at least " + MIN_RING_TIMEOUT_SECONDS + " s, and twice the "
          + writeSeconds + " s a checkpoint of " + bytes + " bytes takes at " + CHECKPOINT_BYTES_PER_SECOND / 1_000_000
          + " MB/s), because the other ranks wait in the ring while rank 0 writes; use ringTimeoutSeconds="
          + needed + " or more");
    }
  }

  /** Bytes of one checkpoint of this config's model: parameters x {@value #CHECKPOINT_BYTES_PER_PARAMETER}. */
  static long checkpointBytes(TrainConfig cfg) {
    long parameters = GptModel.layout(cfg.modelConfig(cfg.tokenizer().tokenizer().vocabSize())).totalElements();
    return parameters * CHECKPOINT_BYTES_PER_PARAMETER;
  }
}
