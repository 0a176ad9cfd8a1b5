// Package doc of the ring all-reduce benchmark command.
/**
 * The ring all-reduce benchmark ({@code bench/ring.sh}): ringtrain's ring against the loopback
 * TCP ceiling and Spark's treeAggregate + broadcast, measured side by side in one JVM run.
 * Internal: a command, not an API; nothing outside this package uses it.
 */
package org.ringtrain.bench.ring;
