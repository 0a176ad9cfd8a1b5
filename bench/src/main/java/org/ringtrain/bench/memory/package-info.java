/**
 * The memory benchmark ({@code bench/memory.sh}): per-rank peak off-heap memory and resident size
 * of the GPT-2 124M preset in Spark local mode, measured in one JVM per configuration, beside the
 * estimate the train command prints.
 *
 * <p>Stability: a command for people, not an API; output format may change.
 */
package org.ringtrain.bench.memory;
