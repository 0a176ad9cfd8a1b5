/**
 * The ring's only contact with Spark: a {@link org.ringtrain.sync.Rendezvous} over a barrier
 * stage's {@code BarrierTaskContext.allGather}. Spark is a provided dependency of this module.
 *
 * <p>Stability: public API.
 */
package org.ringtrain.sync.spark;
