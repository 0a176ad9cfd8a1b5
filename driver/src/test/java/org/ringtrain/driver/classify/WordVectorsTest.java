// Word-vector files as the tools that write them do: gensim's word2vec text
// format (a "count dim" header line, then GloVe-style lines) is read like GloVe,
// and its header is checked against the model's d. No Spark. Test code only.
package org.ringtrain.driver.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WordVectorsTest {
  private static final Vocabulary VOCAB = Vocabulary.of(List.of("good", "bad", "meh"));

  @TempDir
  Path tmp;

  private WordVectors read(String text, int dim) throws IOException {
    Path file = tmp.resolve("vectors.txt");
    Files.writeString(file, text);
    return WordVectors.read(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration(), VOCAB, dim);
  }

  @Test
  void word2vecTextWithItsCountDimHeaderIsRead() throws IOException {
    // As gensim's KeyedVectors.save_word2vec_format(path, binary=False) writes it.
    WordVectors v = read("3 2\ngood 0.5 -0.25\nunseen 9 9\nbad -1 0.125\n", 2);
    assertEquals(2, v.hits());
    int dim = 2;
    int good = VOCAB.id("good");
    assertArrayEquals(new float[] {0.5f, -0.25f}, java.util.Arrays.copyOfRange(v.vectors(), good * dim, good * dim + dim));
    assertTrue(v.found()[VOCAB.id("bad")] && !v.found()[VOCAB.id("meh")]);
  }

  @Test
  void aHeaderOfAnotherDimensionIsRefusedWithTheFix() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> read("3 300\ngood 0.5 -0.25\n", 2));
    assertTrue(e.getMessage().contains("line 1: the word2vec header '3 300' says 3 vectors of dimension 300, but the"
        + " model's d is 2; set d to 300"), e.getMessage());
  }

  @Test
  void gloveWithoutHeaderStillReadsAndAWrongLineStillNamesItself() throws IOException {
    assertEquals(1, read("good 1 2\n", 2).hits());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read("good 1 2\nbad 3\n", 2));
    assertTrue(e.getMessage().contains("line 2: 'bad' has 1 numbers, but the model's d is 2"), e.getMessage());
  }
}
