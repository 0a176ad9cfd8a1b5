/**
 * Data-parallel GPT training on Spark: the validated {@link org.ringtrain.driver.train.TrainConfig},
 * the trainer that runs one long-lived barrier stage with a task per rank, and the rank loop
 * (ring rendezvous, identical initialisation, shuffled epochs, gradient buckets all-reduced while
 * backward continues, clipping, AdamW, evaluation, checkpoints, resume).
 *
 * <p>Stability: {@code TrainConfig}, {@code GptTrainer} and {@code TrainingResult} are public API;
 * the rest is internal.
 */
package org.ringtrain.driver.train;
