/**
 * Data-parallel training on Spark, for GPT and any model a {@link org.ringtrain.driver.train.ModelRecipe}
 * describes: the validated {@link org.ringtrain.driver.train.TrainConfig},
 * the trainer that runs one long-lived barrier stage with a task per rank, and the rank loop
 * (ring rendezvous, identical initialisation, shuffled epochs, gradient buckets all-reduced while
 * backward continues, clipping, AdamW, evaluation, checkpoints, resume).
 *
 * <p>Stability: {@code TrainConfig}, {@code GptTrainer}, {@code DataParallelTrainer}, {@code ModelRecipe},
 * {@code TrainingResult}, {@code RankResult} and {@code TrainedGpt} are public API;
 * the rest is internal.
 */
package org.ringtrain.driver.train;
