// Pretrained word vectors in GloVe's text format ("word v1 v2 ... vd", one word
// per line, as glove.6B.50d.txt ships) or word2vec's text format (the same lines
// after a "count dim" header line, as gensim's save_word2vec_format(binary=False)
// and word2vec -binary 0 write), read for the words of a vocabulary only, to
// initialise a classifier's embedding. It does not train or normalise vectors,
// does not read word2vec's binary format, and reads from any Hadoop FileSystem.
package org.ringtrain.driver.classify;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The rows of an embedding matrix [V, d] taken from a GloVe file for the tokens of a vocabulary;
 * {@code found[id]} says which rows the file supplied (the others keep the model's initialisation).
 *
 * @param vectors [V * d] row-major, zero where not found
 * @param found   [V] whether the file had a vector for the token of that id
 * @param hits    how many vocabulary tokens the file covered
 */
public record WordVectors(float[] vectors, boolean[] found, int hits) {

  /**
   * Reads {@code path} and keeps the vectors of {@code vocabulary}'s tokens. A first line of exactly
   * two integers is word2vec's {@code count dim} header: its dim must be {@code dim}, and the count
   * is not checked (gensim writes it; truncated files are common and harmless).
   *
   * @throws IllegalArgumentException when the file's dimension is not {@code dim}, a line is
   *                                  malformed (message names the line), or the file covers no token
   */
  public static WordVectors read(Path path, Configuration conf, Vocabulary vocabulary, int dim) throws IOException {
    int v = vocabulary.size();
    float[] vectors = new float[v * dim];
    boolean[] found = new boolean[v];
    int hits = 0;
    long lineNo = 0;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(path.getFileSystem(conf).open(path),
        StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        String[] parts = line.trim().split(" ");
        if (lineNo == 1 && isHeader(parts)) {
          if (Long.parseLong(parts[1]) != dim) {
            throw new IllegalArgumentException(path + " line 1: the word2vec header '" + line.trim() + "' says "
                + parts[0] + " vectors of dimension " + parts[1] + ", but the model's d is " + dim
                + "; set d to " + parts[1] + " or use vectors of dimension " + dim);
          }
          continue;
        }
        if (parts.length - 1 != dim) {
          throw new IllegalArgumentException(path + " line " + lineNo + ": '" + abbreviate(parts[0]) + "' has "
              + (parts.length - 1) + " numbers, but the model's d is " + dim + "; set d to the vectors' dimension"
              + " (a GloVe line is: word v1 ... vd, separated by single spaces; a word2vec text file opens with one"
              + " 'count dim' line)");
        }
        if (!vocabulary.contains(parts[0]) || Vocabulary.PAD.equals(parts[0]) || Vocabulary.UNK.equals(parts[0])) {
          continue;
        }
        int id = vocabulary.id(parts[0]);
        if (found[id]) {
          continue; // the first vector of a word wins
        }
        int base = id * dim;
        for (int j = 0; j < dim; j++) {
          try {
            vectors[base + j] = Float.parseFloat(parts[j + 1]);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(path + " line " + lineNo + ": value " + (j + 1) + " of '" + parts[0]
                + "' is '" + abbreviate(parts[j + 1]) + "', not a number", e);
          }
        }
        found[id] = true;
        hits++;
      }
    }
    if (hits == 0) {
      throw new IllegalArgumentException(path + " has no vector for any of the " + (v - 2) + " vocabulary tokens"
          + " (read " + lineNo + " lines); is it a GloVe text file for this language and casing?");
    }
    return new WordVectors(vectors, found, hits);
  }

  /** Whether a first line is word2vec's "count dim" header: two non-negative integers. */
  private static boolean isHeader(String[] parts) {
    return parts.length == 2 && parts[0].matches("\\d{1,18}") && parts[1].matches("\\d{1,9}");
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
