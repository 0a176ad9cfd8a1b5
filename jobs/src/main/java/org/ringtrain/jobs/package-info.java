/**
 * The {@code spark-submit} entry points of ringtrain (train, generate, evaluate, tokenize): thin
 * command-line front ends over {@code org.ringtrain.driver}.
 *
 * <p>Must import only org.ringtrain.driver (plus picocli and Jackson for config files): no Spark,
 * Hadoop, ops or sync type (build/import-control.xml).
 *
 * <p>Stability: the command lines are public API; the classes are internal.
 */
package org.ringtrain.jobs;
