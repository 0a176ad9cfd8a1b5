/**
 * driver: everything that touches Spark on the driver side, in packages by concern: config
 * (flat settings to validated records), train (the model-agnostic data-parallel loop), gpt (the GPT
 * run: config, recipe, trainer, trained model, evaluation), classify (the Spark ML text
 * classifier), data (corpora to sequences), tokenize, shards (the llm.c token-shard codec), fs
 * (Hadoop settings and file checks), checkpoint, metrics, launch (the Spark application of a job)
 * and serde (Kryo).
 *
 * <p>May import Spark, Hadoop, ND4J, worker-ops and parameter-sync; must not import jobs.
 * Stability: the packages' own notes say which types are public API.
 */
package org.ringtrain.driver;
