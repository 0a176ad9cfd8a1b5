/**
 * Generic machinery for any model's parameters and activations: the arena that carves activation
 * views, and seeded parameter initialisation by per-tensor rules. Knows no model; must not import
 * model packages, Spark or the ring.
 *
 * <p>Stability: internal to worker-ops.
 */
package org.ringtrain.ops.param;
