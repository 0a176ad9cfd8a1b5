/**
 * The model-agnostic data-parallel training loop on Spark: its config by concern (LoopConfig
 * with OptimizerSettings, CheckpointSettings, MetricsSettings, RingSettings, ThreadSettings), the
 * trainer that runs one long-lived barrier stage with a task per rank (DataParallelTrainer), the
 * ModelRecipe a model plugs in with, and the rank loop (ring rendezvous, identical initialisation,
 * shuffled epochs, gradient buckets all-reduced while backward continues, clipping, AdamW,
 * evaluation, replica checks, checkpoints, resume).
 *
 * <p>Knows no model: must not import driver.gpt, driver.classify, ops.gpt or ops.classify.
 * Stability: LoopConfig and its parts, DataParallelTrainer, ModelRecipe, TrainingResult and
 * RankResult are public API; the rest is internal.
 */
package org.ringtrain.driver.train;
