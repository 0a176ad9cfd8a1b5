/**
 * The one adapter from the ring to Spark: rendezvous of ranks through
 * BarrierTaskContext.allGather.
 *
 * <p>May import Spark (provided scope); must not import ND4J or org.ringtrain.ops.
 * Stability: public API of the module.
 */
package org.ringtrain.sync.spark;
