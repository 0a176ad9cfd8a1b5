/*
 * TokenizerKind: the tokenizers a GPT run can choose, as a config value. It is not a tokenizer
 * (Tokenizer.forId makes one) and lists no tokenizer that Tokenizer.KNOWN_IDS does not.
 */
package org.ringtrain.driver.tokenize;

import java.util.Locale;

/** {@code byte} (vocabulary 256, the default) or {@code gpt2} (GPT-2 BPE, vocabulary 50257). */
public enum TokenizerKind {
  BYTE,
  GPT2;

  /** The tokenizer id, as checkpoints and token shards record it: {@code byte} or {@code gpt2}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The tokenizer itself. */
  public Tokenizer tokenizer() {
    return Tokenizer.forId(id());
  }
}
