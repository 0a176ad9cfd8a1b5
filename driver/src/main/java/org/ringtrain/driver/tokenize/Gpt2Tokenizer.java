// Gpt2Tokenizer: GPT-2's byte-pair encoding (tiktoken's r50k_base) through the jtokkit
// library. It is NOT a BPE implementation: merges and vocabulary come from jtokkit's bundled
// r50k_base table. Special tokens in the input text are encoded as ordinary text.
package org.ringtrain.driver.tokenize;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2 BPE tokenizer (r50k_base, vocabulary {@value #VOCAB_SIZE}, end-of-text token
 * {@value #END_OF_TEXT}). Use {@link Tokenizer#forId}{@code ("gpt2")} or {@link #INSTANCE}.
 *
 * <p>Serializable although jtokkit's {@code Encoding} is not: the encoding lives in a static
 * holder, loaded once per JVM on first use (about 0.8 MB of merge table) and shared by all
 * threads; jtokkit encodings are immutable after construction.
 */
public final class Gpt2Tokenizer implements Tokenizer {

  private static final long serialVersionUID = 1L;

  /** Vocabulary size of r50k_base: {@value}. */
  public static final int VOCAB_SIZE = 50257;

  /** Id of {@code <|endoftext|>}, the last id of the vocabulary: {@value}. */
  public static final int END_OF_TEXT = 50256;

  /** The one instance. */
  public static final Gpt2Tokenizer INSTANCE = new Gpt2Tokenizer();

  private Gpt2Tokenizer() {}

  /** Lazy, per-JVM holder: the table loads when a task first tokenizes, not when shipped. */
  private static final class EncodingHolder {
    static final Encoding R50K =
        Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
  }

  @Override
  public String id() {
    return GPT2;
  }

  @Override
  public int vocabSize() {
    return VOCAB_SIZE;
  }

  @Override
  public int[] encode(byte[] text) {
    if (text.length == 0) {
      return new int[0];
    }
    // encodeOrdinary: "<|endoftext|>" written in a corpus is text, not a control token.
    return EncodingHolder.R50K.encodeOrdinary(new String(text, StandardCharsets.UTF_8)).toArray();
  }

  @Override
  public String decode(int[] tokens) {
    Tokenizer.checkIds(tokens, VOCAB_SIZE, GPT2);
    IntArrayList list = new IntArrayList(tokens.length);
    for (int t : tokens) {
      list.add(t);
    }
    // decodeBytes then UTF-8: a token boundary may fall inside a multi-byte character.
    return new String(EncodingHolder.R50K.decodeBytes(list), StandardCharsets.UTF_8);
  }

  /** Keeps the singleton after Java deserialisation on an executor. */
  private Object readResolve() {
    return INSTANCE;
  }

  @Override
  public String toString() {
    return "Gpt2Tokenizer[r50k_base, vocab=" + VOCAB_SIZE + "]";
  }
}
