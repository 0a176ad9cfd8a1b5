/**
 * Training checkpoints on any Hadoop FileSystem: safetensors weights with GPT-2 names, optimizer
 * state and the training position, written atomically with SHA-256 checksums, verified on load,
 * with corrupt or partial checkpoints skipped in favour of the previous one, and the lease that
 * gives a checkpoint directory one owning run.
 *
 * <p>Entry point: {@link org.ringtrain.driver.checkpoint.CheckpointStore}. The on-disk format is
 * described in {@link org.ringtrain.driver.checkpoint.CheckpointFormat}.
 *
 * <p>Must not import train, gpt or classify: a checkpoint is a layout, a flat buffer, optimizer state and
 * opaque run-config JSON, whatever model wrote it.
 *
 * <p>Stability: public API ({@code CheckpointStore}, {@code CheckpointLease}, {@code Checkpoint}, {@code TrainingState} and
 * the exceptions); the on-disk format is versioned and readers refuse versions they do not know.
 * {@code CheckpointWriter}, {@code CheckpointReader}, {@code CheckpointDirectory} and {@code Manifest}
 * are internal.
 */
package org.ringtrain.driver.checkpoint;
