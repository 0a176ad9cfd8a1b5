// Tests of the byte-level tokenizer: ids are unsigned byte values and decode inverts encode.
package org.ringtrain.driver.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ByteTokenizerTest {

  private final Tokenizer tok = ByteTokenizer.INSTANCE;

  @Test
  void encodesEachByteAsItsUnsignedValue() {
    assertArrayEquals(new int[] {72, 105, 10}, tok.encode("Hi\n".getBytes(StandardCharsets.UTF_8)));
    // é is two UTF-8 bytes, 0xC3 0xA9: two tokens above 127.
    assertArrayEquals(new int[] {0xC3, 0xA9}, tok.encode("é".getBytes(StandardCharsets.UTF_8)));
    assertArrayEquals(new int[0], tok.encode(new byte[0]));
  }

  @Test
  void roundTripsUtf8TextAndEveryByteValue() {
    String text = "Call me Ishmael — «Ahab» 白鯨 🐋\n";
    assertEquals(text, tok.decode(tok.encode(text.getBytes(StandardCharsets.UTF_8))));
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) {
      all[i] = (byte) i;
    }
    int[] ids = tok.encode(all);
    for (int i = 0; i < 256; i++) {
      assertEquals(i, ids[i]);
    }
  }

  @Test
  void decodeRefusesIdsOutsideTheVocabulary() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {65, 256}));
    assertTrue(e.getMessage().contains("token id 256 at position 1"), e.getMessage());
    assertTrue(e.getMessage().contains("0..255"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
  }
}
