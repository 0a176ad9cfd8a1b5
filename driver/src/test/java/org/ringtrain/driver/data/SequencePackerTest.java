// Tests of the packing arithmetic for one token stream: counts and exact sequences.
package org.ringtrain.driver.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(10)
class SequencePackerTest {

  @ParameterizedTest(name = "{0} tokens at T={1} give {2} sequences")
  @CsvSource({
      "0, 4, 0", "1, 4, 0", "4, 4, 0", "5, 4, 1", "8, 4, 1", "9, 4, 2", "23, 4, 5",
      "2, 1, 1", "3, 1, 2", "1000001, 1000, 1000", "1000000, 1000, 999"})
  void countsWholeSequencesWithStrideT(long tokens, int contextLength, long expected) {
    assertEquals(expected, SequencePacker.sequenceCount(tokens, contextLength));
  }

  @Test
  void sequenceIOverlapsTheNextByOneToken() {
    int[] tokens = new int[11];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = 100 + i;
    }
    // T = 3: [0,4) [3,7) [6,10); token 10 is left over.
    assertArrayEquals(new int[] {100, 101, 102, 103}, SequencePacker.sequence(tokens, 0, 3));
    assertArrayEquals(new int[] {103, 104, 105, 106}, SequencePacker.sequence(tokens, 1, 3));
    assertArrayEquals(new int[] {106, 107, 108, 109}, SequencePacker.sequence(tokens, 2, 3));
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> SequencePacker.sequence(tokens, 3, 3));
    assertEquals("sequence index 3 out of range: a stream of 11 tokens has 3 sequences at"
        + " contextLength 3", e.getMessage());
  }

  @Test
  void refusesNegativeCountsAndContextBelowOne() {
    assertThrows(IllegalArgumentException.class, () -> SequencePacker.sequenceCount(-1, 4));
    assertThrows(IllegalArgumentException.class, () -> SequencePacker.sequenceCount(10, 0));
  }
}
