// Tests of the GPT-2 BPE tokenizer (r50k_base via jtokkit): known ids for known phrases, round
// trips, and the end-of-text token. Not a test of jtokkit's BPE itself.
package org.ringtrain.driver.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.data.CorpusFixtures;

@Timeout(60)
class Gpt2TokenizerTest {

  private final Tokenizer tok = Gpt2Tokenizer.INSTANCE;

  private int[] encode(String s) {
    return tok.encode(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void encodesKnownPhrasesToGpt2Ids() {
    // GPT-2's vocabulary: "hello"=31373, "Hello"=15496, " world"=995.
    assertArrayEquals(new int[] {31373, 995}, encode("hello world"));
    assertArrayEquals(new int[] {15496, 995}, encode("Hello world"));
    assertEquals(50257, tok.vocabSize());
  }

  @Test
  void roundTripsTextIncludingNonAscii() {
    String text = "Call me Ishmael. Some years ago—never mind how long precisely—having\n"
        + "little or no money in my purse. «Ahab» 白鯨 🐋 tab\there";
    int[] ids = encode(text);
    assertTrue(ids.length < text.length(), "BPE should need fewer tokens than characters");
    assertTrue(Arrays.stream(ids).allMatch(t -> t >= 0 && t < 50257));
    assertEquals(text, tok.decode(ids));
    assertArrayEquals(new int[0], tok.encode(new byte[0]));
  }

  @Test
  void endOfTextInTheCorpusIsOrdinaryTextButItsIdDecodes() {
    int[] ids = encode("a<|endoftext|>b");
    assertTrue(Arrays.stream(ids).noneMatch(t -> t == Gpt2Tokenizer.END_OF_TEXT),
        Arrays.toString(ids));
    assertEquals("a<|endoftext|>b", tok.decode(ids));
    assertEquals("<|endoftext|>", tok.decode(new int[] {Gpt2Tokenizer.END_OF_TEXT}));
  }

  @Test
  void decodeRefusesIdsOutsideTheVocabulary() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {50257}));
    assertTrue(e.getMessage().contains("0..50256"), e.getMessage());
  }

  @Test
  void roundTripsTheShippedCorpus() throws Exception {
    Path corpus = CorpusFixtures.repositoryRoot().resolve("data/moby-dick.txt");
    byte[] bytes = Files.readAllBytes(corpus);
    int[] ids = tok.encode(bytes);
    assertEquals(new String(bytes, StandardCharsets.UTF_8), tok.decode(ids));
    assertTrue(ids.length > 200_000 && ids.length < 400_000, "tokens: " + ids.length);
  }
}
