// ByteTokenizer: one token per byte, vocabulary 256, the default tokenizer. It does not know
// about characters: a multi-byte UTF-8 character becomes several tokens, and decode repairs
// nothing beyond replacing incomplete sequences with U+FFFD.
package org.ringtrain.driver.tokenize;

import java.nio.charset.StandardCharsets;

/**
 * Byte-level tokenizer: token id = unsigned byte value, vocabulary {@value #VOCAB_SIZE}. Use
 * {@link Tokenizer#forId}{@code ("byte")} or {@link #INSTANCE}.
 */
public final class ByteTokenizer implements Tokenizer {

  private static final long serialVersionUID = 1L;

  /** Vocabulary size: {@value}. */
  public static final int VOCAB_SIZE = 256;

  /** The one instance. */
  public static final ByteTokenizer INSTANCE = new ByteTokenizer();

  private ByteTokenizer() {}

  @Override
  public String id() {
    return BYTE;
  }

  @Override
  public int vocabSize() {
    return VOCAB_SIZE;
  }

  @Override
  public int[] encode(byte[] text) {
    int[] tokens = new int[text.length];
    for (int i = 0; i < text.length; i++) {
      tokens[i] = text[i] & 0xFF;
    }
    return tokens;
  }

  @Override
  public String decode(int[] tokens) {
    Tokenizer.checkIds(tokens, VOCAB_SIZE, BYTE);
    byte[] bytes = new byte[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      bytes[i] = (byte) tokens[i];
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** Keeps the singleton after Java deserialisation on an executor. */
  private Object readResolve() {
    return INSTANCE;
  }

  @Override
  public String toString() {
    return "ByteTokenizer[vocab=" + VOCAB_SIZE + "]";
  }
}
