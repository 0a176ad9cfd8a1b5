/**
 * Training data for ringtrain: tokenizers, reading a corpus (text files or llm.c-style uint16
 * token shards) from any Hadoop FileSystem through Spark, packing it into fixed-length
 * sequences, the validation split, and cutting the training set into exactly one equal
 * partition per rank.
 *
 * <p>Entry points: {@link org.ringtrain.driver.data.CorpusLoader#load} (a {@link
 * org.ringtrain.driver.data.DatasetSpec} in, {@link org.ringtrain.driver.data.TrainingData} out),
 * {@link org.ringtrain.driver.data.Tokenizer#forId}, {@link
 * org.ringtrain.driver.data.TokenShards#tokenizeToShards} and the shard {@link
 * org.ringtrain.driver.data.TokenShardWriter}/{@link org.ringtrain.driver.data.TokenShardReader}
 * pair.
 *
 * <p>Stability: public API of the driver module (used by the training stage and the jobs).
 * The shard file format is the llm.c format and is frozen; package-private classes are
 * internal.
 */
package org.ringtrain.driver.data;
