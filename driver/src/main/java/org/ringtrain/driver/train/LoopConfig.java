/*
 * LoopConfig: everything the model-agnostic data-parallel training loop needs (ranks, batches,
 * steps, data order, evaluation and replica-check cadence) plus one record per concern it drives
 * (optimizer, checkpoints, metrics, ring, threads, divergence). It knows no model and no dataset:
 * a model's run config (the GPT's TrainConfig, the classifier's params) holds one. It knows nothing
 * of Spark.
 */
package org.ringtrain.driver.train;

import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ringtrain.driver.gpt.TrainConfig;

/**
 * The training loop's configuration, validated in the compact constructors of this record and its
 * parts. Flat setting names (as in conf/*.yaml) are the component names; see
 * {@link org.ringtrain.driver.config.FlatSettings}.
 *
 * @param worldSize          ranks, one Spark task each (default 2)
 * @param microBatch         rows per rank per micro-batch, B (default 8)
 * @param gradAccumSteps     micro-batches per rank and optimizer step (default 1); a resumed run
 *                           uses globalBatch / (worldSize x microBatch) of its checkpoint instead
 * @param steps              optimizer steps in total (default 200)
 * @param seed               seed of initialisation and data order (default 1337)
 * @param shuffle            reshuffle the global order of the training rows every epoch (default true)
 * @param groupByLength      length grouping of rows of different lengths (a text classifier's): each
 *                           epoch's order is cut into chunks of this many global batches, each chunk
 *                           sorted by row length and cut into global batches, whose order is then
 *                           shuffled, so micro-batches pad less; 0 = off (default 0). No effect on
 *                           rows of one length (a GPT's windows)
 * @param evalEvery          steps between validation passes, 0 = only at the end (default 50)
 * @param evalBatches        micro-batches per rank per validation pass (default 8)
 * @param checkReplicasEvery steps between cross-rank checks that parameters are bitwise equal,
 *                           0 = only at the end (default 50)
 * @param earlyStoppingPatience validation passes in a row without a lower validation loss after
 *                           which the run stops, its parameters set back to those of the best pass
 *                           (also at the last step); 0 = off (default 0). Needs validation data and
 *                           evalEvery &gt; 0
 * @param optimizer          AdamW and its schedule
 * @param checkpoints        checkpoint directory, cadence, retention, resume
 * @param metrics            metrics destinations and the MFU peak
 * @param ring               the ring all-reduce
 * @param threads            ND4J threads per rank
 * @param divergence         what a step with a non-finite loss or gradient norm does
 */
public record LoopConfig(
    int worldSize,
    int microBatch,
    int gradAccumSteps,
    long steps,
    long seed,
    boolean shuffle,
    int groupByLength,
    long evalEvery,
    int evalBatches,
    long checkReplicasEvery,
    long earlyStoppingPatience,
    OptimizerSettings optimizer,
    CheckpointSettings checkpoints,
    MetricsSettings metrics,
    RingSettings ring,
    ThreadSettings threads,
    DivergenceSettings divergence) implements Serializable {

  /** Every default of this tree, keyed by flat setting; {@code checkpointDir} has none. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("worldSize", 2);
    d.put("microBatch", 8);
    d.put("gradAccumSteps", 1);
    d.put("steps", 200);
    d.put("seed", 1337);
    d.put("shuffle", true);
    d.put("groupByLength", 0);
    d.put("evalEvery", 50);
    d.put("evalBatches", 8);
    d.put("checkReplicasEvery", 50);
    d.put("earlyStoppingPatience", 0);
    d.putAll(OptimizerSettings.defaults());
    d.putAll(CheckpointSettings.defaults());
    d.putAll(MetricsSettings.defaults());
    d.putAll(RingSettings.defaults());
    d.putAll(ThreadSettings.defaults());
    d.putAll(DivergenceSettings.defaults());
    return d;
  }

  /** Validates every field and the settings that depend on each other. */
  public LoopConfig {
    require(worldSize >= 1, "worldSize", worldSize, "use at least 1 rank");
    require(microBatch >= 1, "microBatch", microBatch, "use at least 1 row per micro-batch");
    require(gradAccumSteps >= 1, "gradAccumSteps", gradAccumSteps, "use at least 1");
    require(steps >= 1, "steps", steps, "train for at least 1 step");
    require(groupByLength >= 0, "groupByLength", groupByLength,
        "use 0 (off) or the number of global batches per length-sorted chunk, e.g. 8");
    require(evalEvery >= 0, "evalEvery", evalEvery, "use 0 (only at the end) or a positive interval");
    require(evalBatches >= 1, "evalBatches", evalBatches, "use at least 1");
    require(checkReplicasEvery >= 0, "checkReplicasEvery", checkReplicasEvery, "use 0 (only at the end) or more");
    require(earlyStoppingPatience >= 0, "earlyStoppingPatience", earlyStoppingPatience,
        "use 0 (off) or the number of validation passes without improvement to wait");
    require(earlyStoppingPatience == 0 || evalEvery > 0, "earlyStoppingPatience", earlyStoppingPatience,
        "early stopping needs validation passes during the run: set evalEvery > 0 (it is " + evalEvery + ")");
    require(optimizer != null && checkpoints != null && metrics != null && ring != null && threads != null
        && divergence != null,
        "settings", null, "build a LoopConfig with every part (FlatSettings.read does)");
    require(optimizer.warmupSteps() < steps, "warmupSteps", optimizer.warmupSteps(),
        "use 0 or more, fewer than steps=" + steps);
  }

  /** Rows every optimizer step of a new run consumes across all ranks: its global batch. */
  public long rowsPerStep() {
    return (long) worldSize * microBatch * gradAccumSteps;
  }

  /** The metrics log path: {@link MetricsSettings#metricsLog} or the default under the checkpoint directory. */
  public String resolvedMetricsLog() {
    return metrics.metricsLog().isEmpty() ? checkpoints.dirWithoutSlash() + "/metrics.jsonl" : metrics.metricsLog();
  }

  /** The TensorBoard directory: {@link MetricsSettings#tensorboardDir} or the default under the checkpoint directory. */
  public String resolvedTensorboardDir() {
    return metrics.tensorboardDir().isEmpty() ? checkpoints.dirWithoutSlash() + "/tensorboard"
        : metrics.tensorboardDir();
  }
}
