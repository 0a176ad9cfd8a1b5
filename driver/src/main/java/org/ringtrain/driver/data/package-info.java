/**
 * Training data: reading a corpus (text files or token shards) from any Hadoop FileSystem
 * through Spark (CorpusLoader, TokenShards), packing it into fixed-length sequences, the validation
 * split, and cutting the training set into exactly one equal partition per rank.
 *
 * <p>Must not import train, gpt or classify (they consume it). Stability: CorpusLoader, DatasetSpec,
 * TrainingData, RankRows and TokenShards are public API; package-private classes are internal.
 */
package org.ringtrain.driver.data;
