// Tests of Tokenizer.forId and of what all tokenizers share (ids, serialisation). Not the
// per-tokenizer encodings: those are in ByteTokenizerTest and Gpt2TokenizerTest.
package org.ringtrain.driver.tokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class TokenizerTest {

  @Test
  void forIdReturnsTheKnownTokenizers() {
    assertSame(ByteTokenizer.INSTANCE, Tokenizer.forId("byte"));
    assertSame(Gpt2Tokenizer.INSTANCE, Tokenizer.forId("gpt2"));
    assertEquals("byte", Tokenizer.DEFAULT_ID);
    assertEquals(256, Tokenizer.forId("byte").vocabSize());
    assertEquals(50257, Tokenizer.forId("gpt2").vocabSize());
  }

  @Test
  void forIdRefusesAnUnknownIdAndListsTheKnownOnes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.forId("gpt4"));
    assertTrue(e.getMessage().contains("'gpt4'"), e.getMessage());
    assertTrue(e.getMessage().contains("[byte, gpt2]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Tokenizer.forId(null));
  }

  @Test
  void tokenizersSurviveJavaSerialisationAsTheSameInstance() throws Exception {
    for (String id : Tokenizer.KNOWN_IDS) {
      Tokenizer t = Tokenizer.forId(id);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(t);
      }
      try (ObjectInputStream in =
          new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
        Tokenizer back = (Tokenizer) in.readObject();
        assertSame(t, back, id);
        assertEquals("round trip", back.decode(back.encode("round trip".getBytes("UTF-8"))));
      }
    }
  }
}
