/**
 * The {@code spark-submit} entry points of ringtrain (train, generate, evaluate, tokenize): thin
 * command-line front ends over {@code org.ringtrain.driver}.
 *
 * <p>Stability: the command lines are public API; the classes are internal.
 */
package org.ringtrain.jobs;
