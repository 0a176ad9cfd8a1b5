// The token vocabulary of a text classifier: id 0 is padding, id 1 stands for
// every token not in the vocabulary, then the kept tokens by descending count.
// It is built from the training data with one Spark SQL aggregation (min count,
// max size, ties by token so the same data always gives the same ids - which
// MLlib's CountVectorizer does not promise, and resuming a run needs), saved next
// to the model as JSON and identified by a SHA-256, so a model is never run with
// another vocabulary. It does not split text into words: its input is the token
// arrays a Tokenizer/StopWordsRemover stage produced. A classifier initialised from
// a GPT backbone uses the backbone's tokenizer instead (forTokenizer): the row's
// words joined by spaces, tokenised as the GPT was, each id shifted past <pad> and
// <unk>.
package org.ringtrain.driver.classify;

import static org.apache.spark.sql.functions.array_distinct;
import static org.apache.spark.sql.functions.asc;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.explode;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.ops.classify.SequenceClassifier;

/**
 * An immutable token-to-id table with {@code <pad>} = 0 and {@code <unk>} = 1: either words counted
 * in the training data ({@link #fit}) or a GPT tokenizer's ids shifted by 2 ({@link #forTokenizer}).
 */
public final class Vocabulary implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The padding token, id {@value SequenceClassifier#PAD_ID}. */
  public static final String PAD = "<pad>";
  /** The unknown-token token, id {@value SequenceClassifier#UNK_ID}. */
  public static final String UNK = "<unk>";

  private static final String FORMAT = "ringtrain-vocabulary";
  private static final int VERSION = 1;
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  /** How far a tokenizer's ids are shifted: past {@code <pad>} and {@code <unk>}. */
  public static final int TOKENIZER_OFFSET = 2;

  private final List<String> tokens; // id -> token; 0 = PAD, 1 = UNK; only these two with a tokenizer
  private final Tokenizer tokenizer; // null: a word vocabulary
  private final String sha256;
  private transient Map<String, Integer> ids;

  private Vocabulary(List<String> tokens) {
    this.tokens = List.copyOf(tokens);
    this.tokenizer = null;
    this.sha256 = digest(this.tokens);
  }

  private Vocabulary(Tokenizer tokenizer) {
    this.tokens = List.of(PAD, UNK);
    this.tokenizer = tokenizer;
    this.sha256 = digest(List.of(PAD, UNK, "tokenizer:" + tokenizer.id()));
  }

  /**
   * The ids of a GPT tokenizer ({@link Tokenizer#forId}: {@code byte} or {@code gpt2}) shifted by
   * {@link #TOKENIZER_OFFSET}: a row's words are joined by single spaces and tokenised as text, so
   * the classifier sees the tokens its GPT backbone was trained on. Size: the tokenizer's + 2.
   */
  public static Vocabulary forTokenizer(String tokenizerId) {
    return new Vocabulary(Tokenizer.forId(tokenizerId));
  }

  /** The GPT tokenizer's id ({@code byte}, {@code gpt2}), or empty for a word vocabulary. */
  public java.util.Optional<String> tokenizerId() {
    return java.util.Optional.ofNullable(tokenizer).map(Tokenizer::id);
  }

  /**
   * The vocabulary of token arrays in column {@code tokensCol} of {@code data}: every token that
   * occurs in at least {@code minCount} rows, the most frequent first, at most {@code maxSize}
   * entries including {@code <pad>} and {@code <unk>}; equal counts are ordered by token, so the
   * same rows give the same vocabulary however they are partitioned.
   */
  public static Vocabulary fit(Dataset<?> data, String tokensCol, int minCount, int maxSize) {
    if (maxSize < 3) {
      throw new IllegalArgumentException("a vocabulary needs maxSize >= 3 (<pad>, <unk> and one token), but found "
          + maxSize);
    }
    if (minCount < 1) {
      throw new IllegalArgumentException("minCount must be >= 1, but found " + minCount);
    }
    List<String> counted = data.select(explode(array_distinct(col(tokensCol))).as("token"))
        .filter(col("token").isNotNull()).groupBy("token").count()
        .filter(col("count").geq(minCount)).orderBy(desc("count"), asc("token")).limit(maxSize - 2)
        .as(Encoders.tuple(Encoders.STRING(), Encoders.LONG())).collectAsList()
        .stream().map(t -> t._1()).toList();
    List<String> list = new ArrayList<>(counted.size() + 2);
    list.add(PAD);
    list.add(UNK);
    for (String t : counted) {
      if (!PAD.equals(t) && !UNK.equals(t)) {
        list.add(t);
      }
    }
    if (list.size() == 2) {
      throw new IllegalArgumentException("no token of column " + tokensCol + " occurs in at least minCount="
          + minCount + " rows, so the vocabulary would be empty; lower minCount or give more data");
    }
    return new Vocabulary(list);
  }

  /** A vocabulary of exactly these tokens, {@code <pad>} and {@code <unk>} first (tests, tools). */
  public static Vocabulary of(List<String> kept) {
    List<String> list = new ArrayList<>(kept.size() + 2);
    list.add(PAD);
    list.add(UNK);
    list.addAll(kept);
    checkUnique(list, "the given tokens");
    return new Vocabulary(list);
  }

  /** Entries including {@code <pad>} and {@code <unk>}: the model's V. */
  public int size() {
    return tokenizer == null ? tokens.size() : tokenizer.vocabSize() + TOKENIZER_OFFSET;
  }

  /** The token of {@code id} (with a tokenizer: its text, decoded). */
  public String token(int id) {
    if (id < 0 || id >= size()) {
      throw new IllegalArgumentException("token id must be in [0, " + size() + "), but found " + id);
    }
    return id < tokens.size() ? tokens.get(id) : tokenizer.decode(new int[] {id - TOKENIZER_OFFSET});
  }

  /** The id of {@code token}, or {@value SequenceClassifier#UNK_ID} when it is not in the vocabulary. */
  public int id(String token) {
    Integer id = index().get(token);
    return id == null ? SequenceClassifier.UNK_ID : id;
  }

  /** Whether {@code token} has its own id (a word vocabulary; with a tokenizer only the two reserved). */
  public boolean contains(String token) {
    return index().containsKey(token);
  }

  /**
   * The ids of the first {@code maxLen} tokens into {@code out[offset, offset + maxLen)}, padded
   * with {@value SequenceClassifier#PAD_ID}; returns how many tokens were kept (at most maxLen).
   * With a tokenizer, the tokens are those of the row's words joined by single spaces, and a row
   * whose text gives none is one {@code <unk>}.
   */
  public int encode(List<String> row, int maxLen, int[] out, int offset) {
    if (tokenizer != null) {
      int[] ids = tokenizer.encode(String.join(" ", row).getBytes(StandardCharsets.UTF_8));
      int n = Math.min(ids.length, maxLen);
      for (int i = 0; i < n; i++) {
        out[offset + i] = ids[i] + TOKENIZER_OFFSET;
      }
      java.util.Arrays.fill(out, offset + n, offset + maxLen, SequenceClassifier.PAD_ID);
      if (n == 0) {
        out[offset] = SequenceClassifier.UNK_ID;
        return 1;
      }
      return n;
    }
    int n = Math.min(row.size(), maxLen);
    for (int i = 0; i < n; i++) {
      out[offset + i] = id(row.get(i));
    }
    java.util.Arrays.fill(out, offset + n, offset + maxLen, SequenceClassifier.PAD_ID);
    return n;
  }

  /** SHA-256 of the token list (hex): two vocabularies with the same id for every token have the same digest. */
  public String sha256() {
    return sha256;
  }

  /** Writes {@code path} (JSON: format, version, sha256, tokens) on its Hadoop FileSystem, replacing it. */
  public void save(Path path, Configuration conf) throws IOException {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("format", FORMAT);
    doc.put("version", VERSION);
    doc.put("size", size());
    doc.put("sha256", sha256);
    if (tokenizer != null) {
      doc.put("tokenizer", tokenizer.id());
    }
    doc.put("tokens", tokens);
    FileSystem fs = path.getFileSystem(conf);
    try (FSDataOutputStream out = fs.create(path, true)) {
      JSON.writerWithDefaultPrettyPrinter().writeValue((OutputStream) out, doc);
    }
  }

  /**
   * Reads a vocabulary written by {@link #save}, checking its format, version and SHA-256 (so a
   * hand-edited or truncated file is refused).
   */
  public static Vocabulary load(Path path, Configuration conf) throws IOException {
    Map<?, ?> doc;
    try (InputStream in = path.getFileSystem(conf).open(path)) {
      doc = JSON.readValue(in, Map.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(path + " is not a ringtrain vocabulary (invalid JSON: "
          + e.getOriginalMessage() + "); was it replaced or truncated?", e);
    }
    if (!FORMAT.equals(doc.get("format")) || !(doc.get("tokens") instanceof List<?> raw)) {
      throw new IOException(path + " is not a ringtrain vocabulary: expected \"format\": \"" + FORMAT
          + "\" and a \"tokens\" list, found format " + doc.get("format"));
    }
    if (!Integer.valueOf(VERSION).equals(doc.get("version"))) {
      throw new IOException(path + " has vocabulary format version " + doc.get("version") + ", but this ringtrain"
          + " reads version " + VERSION + "; use the ringtrain version that wrote it");
    }
    List<String> list = new ArrayList<>(raw.size());
    for (Object o : raw) {
      list.add(String.valueOf(o));
    }
    Vocabulary v;
    if (doc.get("tokenizer") != null) {
      if (!List.of(PAD, UNK).equals(list)) {
        throw new IOException(path + " names tokenizer " + doc.get("tokenizer") + ", so its tokens must be exactly ["
            + PAD + ", " + UNK + "], but found " + list.size() + " tokens; the file was edited or corrupted");
      }
      try {
        v = forTokenizer(String.valueOf(doc.get("tokenizer")));
      } catch (IllegalArgumentException e) {
        throw new IOException(path + ": " + e.getMessage(), e);
      }
    } else {
      v = words(list, path);
    }
    if (!v.sha256.equals(doc.get("sha256"))) {
      throw new IOException(path + ": the tokens' SHA-256 is " + v.sha256 + " but the file says " + doc.get("sha256")
          + "; the vocabulary was edited or corrupted after it was saved");
    }
    return v;
  }

  private static Vocabulary words(List<String> list, Path path) throws IOException {
    if (list.size() < 3 || !PAD.equals(list.get(0)) || !UNK.equals(list.get(1))) {
      throw new IOException(path + " must start with " + PAD + ", " + UNK + " and hold at least one token");
    }
    checkUnique(list, path.toString());
    return new Vocabulary(list);
  }

  private Map<String, Integer> index() {
    Map<String, Integer> m = ids;
    if (m == null) {
      m = new HashMap<>(tokens.size() * 2);
      for (int i = 0; i < tokens.size(); i++) {
        m.put(tokens.get(i), i);
      }
      ids = m;
    }
    return m;
  }

  private static void checkUnique(List<String> list, String source) {
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < list.size(); i++) {
      Integer before = seen.put(list.get(i), i);
      if (before != null) {
        throw new IllegalArgumentException("token '" + list.get(i) + "' appears twice in " + source + " (ids "
            + before + " and " + i + ")");
      }
    }
  }

  private static String digest(List<String> list) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String t : list) {
        md.update(t.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  @Override
  public String toString() {
    return "Vocabulary[" + size() + " tokens" + (tokenizer == null ? "" : " of tokenizer " + tokenizer.id())
        + ", sha256 " + sha256.substring(0, 12) + "]";
  }
}
