/**
 * Tokenizers: the text to token-id contract (Tokenizer), the byte tokenizer, GPT-2's BPE
 * (through jtokkit) and the config value that names them (TokenizerKind).
 *
 * <p>Must not import Spark, Hadoop or other driver packages: tokenizers travel inside task closures
 * and are pure functions of their input. Stability: public API of the driver.
 */
package org.ringtrain.driver.tokenize;
