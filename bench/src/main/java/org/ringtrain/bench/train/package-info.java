/**
 * The data-parallel training benchmark ({@code bench/train.sh}): the product's GptTrainer on the
 * small GPT config, two ranks with one thread each against one rank with two threads and the same
 * global batch, side by side in one Spark local[2] JVM; it reports tokens/s, the data-parallel
 * overhead, (a)'s step time split and the share of communication hidden behind backward.
 *
 * <p>Stability: a command for people, not an API; output format may change.
 */
package org.ringtrain.bench.train;
