// Tokenizer: the text <-> token id contract shared by the data pipeline, the training
// stage and generation. It is NOT a registry of every tokenizer in existence: only the ids
// listed in KNOWN_IDS exist, and forId is the one place that maps an id to an implementation.
package org.ringtrain.driver.tokenize;

import java.io.Serializable;
import java.util.List;

/**
 * Converts text to token ids and back. Implementations are immutable and {@link Serializable}:
 * they travel to Spark executors inside task closures.
 *
 * <p>Known ids: {@value #BYTE} (one token per byte, vocabulary 256, the default) and
 * {@value #GPT2} (GPT-2 byte-pair encoding, r50k_base through jtokkit, vocabulary 50257).
 */
public interface Tokenizer extends Serializable {

  /** Id of the byte-level tokenizer, the default. */
  String BYTE = "byte";

  /** Id of the GPT-2 BPE tokenizer (tiktoken's r50k_base). */
  String GPT2 = "gpt2";

  /** Id used when none is given: {@value}. */
  String DEFAULT_ID = BYTE;

  /** Every id {@link #forId} accepts, in the order usage text should list them. */
  List<String> KNOWN_IDS = List.of(BYTE, GPT2);

  /** The id this tokenizer was created from, such as {@value #BYTE}; written into checkpoints. */
  String id();

  /** Number of distinct token ids; every id produced by {@link #encode} is below it. */
  int vocabSize();

  /**
   * Tokenizes the raw bytes of a text file.
   *
   * @param text the file's bytes; the GPT-2 tokenizer decodes them as UTF-8 (malformed
   *     sequences become U+FFFD), the byte tokenizer uses them as they are
   * @return token ids, each in {@code [0, vocabSize())}; empty for empty input
   */
  int[] encode(byte[] text);

  /**
   * Turns token ids back into text (UTF-8; incomplete multi-byte sequences, which a model can
   * generate, become U+FFFD).
   *
   * @throws IllegalArgumentException if an id is outside {@code [0, vocabSize())}
   */
  String decode(int[] tokens);

  /**
   * The tokenizer with the given id.
   *
   * @param id one of {@link #KNOWN_IDS}; {@code null} is refused
   * @throws IllegalArgumentException for an unknown id, listing the known ones
   */
  static Tokenizer forId(String id) {
    if (BYTE.equals(id)) {
      return ByteTokenizer.INSTANCE;
    }
    if (GPT2.equals(id)) {
      return Gpt2Tokenizer.INSTANCE;
    }
    throw new IllegalArgumentException(
        "unknown tokenizer id '" + id + "': expected one of " + KNOWN_IDS
            + " (byte: vocabulary 256, the default; gpt2: GPT-2 BPE r50k_base, vocabulary 50257)");
  }

  /**
   * Checks that every id is a valid token for a vocabulary; shared by the implementations.
   *
   * @throws IllegalArgumentException naming the first bad id and its position
   */
  static void checkIds(int[] tokens, int vocabSize, String tokenizerId) {
    for (int i = 0; i < tokens.length; i++) {
      int t = tokens[i];
      if (t < 0 || t >= vocabSize) {
        throw new IllegalArgumentException(
            "token id " + t + " at position " + i + " is outside the vocabulary of tokenizer '"
                + tokenizerId + "' (expected 0.." + (vocabSize - 1)
                + "); the ids were probably produced with another tokenizer");
      }
    }
  }
}
