/**
 * The llm.c token-shard codec: header, writer and reader of uint16 token shards, and the
 * exception for a corrupt shard. It reads and writes streams; where files live is the caller's.
 *
 * <p>Must not import Spark or other driver packages except tokenize. Stability: public API; the file
 * format is llm.c's, with ringtrain's tokenizer id and checksums in header slots llm.c leaves zero
 * (ShardHeader), so llm.c reads ringtrain's shards and ringtrain reads plain llm.c shards.
 */
package org.ringtrain.driver.shards;
