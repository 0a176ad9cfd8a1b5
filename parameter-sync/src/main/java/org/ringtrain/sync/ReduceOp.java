// The reductions the ring offers. Deliberately not a general function: the
// ring must be able to name what it does in errors and fold AVERAGE into the
// owner's final step so that every rank ends bitwise equal.
package org.ringtrain.sync;

/** How an all-reduce combines the ranks' values. */
public enum ReduceOp {
  /** Element-wise sum over all ranks. */
  SUM,
  /** Element-wise sum divided by the world size (what data-parallel gradients need). */
  AVERAGE
}
