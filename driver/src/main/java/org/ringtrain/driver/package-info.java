/**
 * Everything that touches Spark on the driver side: datasets and tokenisation, partitioning,
 * the barrier training stage, checkpoints on Hadoop FileSystems, metrics and progress, the
 * Spark ML API and Kryo registration. Joins {@code org.ringtrain.ops} (the model) and
 * {@code org.ringtrain.sync} (the ring).
 *
 * <p>Stability: public API where types are public.
 */
package org.ringtrain.driver;
