// TableCorpus: the CorpusLoader of a string column of any Dataset<Row> (Parquet, JSON, CSV, a
// table). The rows, in the Dataset's order and each followed by a line break, are one text: the
// text of a file holding them as lines. It is tokenized on the executors, a partition at a time,
// cut only where the tokenizer gives the tokens of the whole (FileTokens.safeCut's rule), so the
// sequences are bit for bit those CorpusLoader makes of that file. It does NOT read files or
// choose columns (the caller does) and never collects tokens to the driver beyond T per partition.
package org.ringtrain.driver.data;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a text column into {@link TrainingData}: the same training and validation sequences as
 * {@link CorpusLoader#load} gives for one text file whose lines are the rows (each row followed by
 * {@code \n}), at any partitioning of the Dataset.
 *
 * <p>Two passes over the rows: a scan (row counts, nulls, the bytes around each partition's
 * edges) and tokenization (each partition's part of the one text; the rows before a partition's
 * first safe cut, usually one, travel through the driver to the partition before it). Then, over
 * the persisted tokens, one job for each partition's count and first T+1 tokens, and the cutting
 * into sequences, whose last ones borrow up to T tokens from the next partitions. A partition's
 * tokens are held at once (4 bytes a token): repartition a Dataset whose partitions hold more than
 * a few hundred MB of text.
 */
public final class TableCorpus {

  private static final Logger LOG = LoggerFactory.getLogger(TableCorpus.class);

  /** Text bytes tokenized at a time, at least (a chunk ends at the next safe cut after this). */
  static final int CHUNK_BYTES = 1 << 20;

  private TableCorpus() {}

  /**
   * What the scan found in one partition.
   *
   * @param rows      rows in the partition
   * @param nulls     rows whose text is null
   * @param firstNull index in the partition of the first null row, -1 when none
   * @param firstByte first byte of the partition's text ({@code \n} for an empty first row), -1 when no row
   * @param lastByte  last byte before the last row's line break ({@code \n} for an empty row), -1 when no row
   * @param headRows  rows before the partition's first safe cut; all of them when it has none
   * @param head      the text of those rows, each with its line break (empty when every cut is safe)
   */
  record Scan(long rows, long nulls, long firstNull, int firstByte, int lastByte, long headRows, byte[] head)
      implements java.io.Serializable {
  }

  /**
   * Requires {@code column} to exist in {@code schema} as a string.
   *
   * @throws IllegalArgumentException naming the columns found, or the type found
   */
  public static void requireTextColumn(StructType schema, String column) {
    if (!Arrays.asList(schema.fieldNames()).contains(column)) {
      throw new IllegalArgumentException("no column '" + column + "' to read text from: expected a string column,"
          + " found the columns " + String.join(", ", schema.fieldNames()) + "; name the text column (setTextCol,"
          + " or --text-column in the train job)");
    }
    var type = schema.apply(column).dataType();
    if (!DataTypes.StringType.equals(type)) {
      throw new IllegalArgumentException("column '" + column + "' must hold text (string), but found "
          + type.simpleString() + "; cast it first (e.g. col(\"" + column + "\").cast(\"string\")) or name another"
          + " column");
    }
  }

  /**
   * Reads, tokenizes and packs the text of {@code column}. The spec's path names the source in
   * messages and logs; its format is ignored (the rows are text).
   *
   * @throws IllegalArgumentException for a missing or non-string column, a null text (before any
   *     tokenization), or a text too short for the spec (see {@link SplitPlan#ofStream})
   */
  public static TrainingData load(Dataset<Row> rows, String column, DatasetSpec spec) {
    requireTextColumn(rows.schema(), column);
    Tokenizer tokenizer = spec.tokenizer();
    boolean anyCut = Tokenizer.BYTE.equals(tokenizer.id());
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
    JavaRDD<String> texts = rows.select(column).as(Encoders.STRING()).javaRDD();
    List<Scan> scans = texts.mapPartitions(part -> List.of(scan(part, anyCut)).iterator()).collect();
    requireNoNulls(scans, column, spec.path());
    int parts = scans.size();
    long[] skipRows = new long[parts];
    byte[][] tails = new byte[parts][];
    plan(scans, anyCut, skipRows, tails);
    LOG.info("reading text column={} of {} partitions={} rows={} tokenizer={}", column, spec.path(), parts,
        scans.stream().mapToLong(Scan::rows).sum(), tokenizer.id());

    JavaRDD<int[]> tokens = texts.mapPartitionsWithIndex((p, part) -> List.of(
        tokenize(part, skipRows[p], tails[p], tokenizer, anyCut)).iterator(), true)
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      int t = spec.contextLength();
      // One job: each partition's token count, then its first T+1 tokens (what the one before may borrow).
      List<int[]> countAndHead = tokens.map(a -> {
        int[] out = new int[1 + Math.min(a.length, t + 1)];
        out[0] = a.length;
        System.arraycopy(a, 0, out, 1, out.length - 1);
        return out;
      }).collect();
      long[] counts = new long[parts];
      List<int[]> heads = new ArrayList<>(parts);
      for (int p = 0; p < parts; p++) {
        counts[p] = countAndHead.get(p)[0];
        heads.add(Arrays.copyOfRange(countAndHead.get(p), 1, countAndHead.get(p).length));
      }
      long total = Arrays.stream(counts).sum();
      long sequences = SequencePacker.sequenceCount(total, t);
      long[] firstSeq = new long[parts];
      long[] seqPerPart = new long[parts];
      int[][] borrowed = new int[parts][];
      long offset = 0;
      for (int p = 0; p < parts; p++) {
        long first = Math.min(sequences, ceilDiv(offset, t));
        long end = Math.min(sequences, ceilDiv(offset + counts[p], t));
        firstSeq[p] = first;
        seqPerPart[p] = Math.max(0, end - first);
        long need = seqPerPart[p] == 0 ? 0 : end * t + 1 - (offset + counts[p]);
        borrowed[p] = borrow(heads, p + 1, (int) Math.max(0, need));
        offset += counts[p];
      }
      SplitPlan plan = SplitPlan.ofStream(spec.path(), seqPerPart, total, t, spec.validationFraction(),
          spec.worldSize());
      long[] offsets = prefix(counts);
      JavaRDD<TokenBlock> blocks = tokens.mapPartitionsWithIndex((p, part) -> {
        int[] own = part.next();
        if (seqPerPart[p] == 0) {
          return java.util.Collections.<TokenBlock>emptyIterator();
        }
        int from = (int) (firstSeq[p] * t - offsets[p]);
        int[] stream = new int[(int) (seqPerPart[p] * t + 1)];
        int mine = Math.min(own.length - from, stream.length);
        System.arraycopy(own, from, stream, 0, mine);
        System.arraycopy(borrowed[p], 0, stream, mine, stream.length - mine);
        return List.of(new TokenBlock(p, 0, stream.length, stream)).iterator();
      }, true);
      LOG.info("packed text column={} tokens={} sequences={} train={} validation={}x{}", column, total,
          sequences, plan.trainSequences(), plan.validationPerRank(), spec.worldSize());
      return CorpusLoader.pack(sc, blocks, plan, spec, tokenizer, parts);
    } finally {
      tokens.unpersist(false);
    }
  }

  /** Counts a partition's rows and nulls and keeps the text up to its first safe cut. */
  private static Scan scan(Iterator<String> part, boolean anyCut) {
    long rows = 0;
    long nulls = 0;
    long firstNull = -1;
    int firstByte = -1;
    int lastByte = -1;
    long headRows = -1;
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (part.hasNext()) {
      String s = part.next();
      if (s == null) {
        firstNull = nulls++ == 0 ? rows : firstNull;
        rows++;
        continue;
      }
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      int first = b.length == 0 ? '\n' : b[0];
      if (rows == 0) {
        firstByte = first;
      } else if (headRows < 0 && (anyCut || safe(lastByte, first))) {
        headRows = rows;
      }
      if (headRows < 0 && !anyCut) {
        head.writeBytes(b);
        head.write('\n');
      }
      lastByte = b.length == 0 ? '\n' : b[b.length - 1];
      rows++;
    }
    return new Scan(rows, nulls, firstNull, firstByte, lastByte, headRows < 0 ? rows : headRows,
        head.toByteArray());
  }

  private static void requireNoNulls(List<Scan> scans, String column, String source) {
    long nulls = scans.stream().mapToLong(Scan::nulls).sum();
    if (nulls > 0) {
      int p = 0;
      while (scans.get(p).nulls() == 0) {
        p++;
      }
      throw new IllegalArgumentException("column '" + column + "' of " + source + " holds " + nulls + " null"
          + " value(s), the first in partition " + p + " at row " + scans.get(p).firstNull() + "; expected text in"
          + " every row; drop them first, e.g. dataset.na().drop(new String[] {\"" + column + "\"})");
    }
  }

  /**
   * Which rows each partition leaves to the one before it ({@code skipRows}) and which text it
   * takes from the ones after it ({@code tails}): a partition that does not start at a safe cut
   * gives the rows before its first safe cut (all of them when it has none) to the partition
   * before it, so every partition's text starts and ends at a safe cut.
   */
  private static void plan(List<Scan> scans, boolean anyCut, long[] skipRows, byte[][] tails) {
    int parts = scans.size();
    boolean[] startSafe = new boolean[parts];
    int previous = -1;
    for (int p = 0; p < parts; p++) {
      Scan s = scans.get(p);
      startSafe[p] = s.rows() == 0 || previous < 0 || anyCut || safe(scans.get(previous).lastByte(), s.firstByte());
      skipRows[p] = startSafe[p] ? 0 : s.headRows();
      previous = s.rows() > 0 ? p : previous;
    }
    for (int p = 0; p < parts; p++) {
      ByteArrayOutputStream tail = new ByteArrayOutputStream();
      boolean ownsText = scans.get(p).rows() > skipRows[p];
      for (int q = p + 1; ownsText && q < parts; q++) {
        if (scans.get(q).rows() == 0) {
          continue; // an empty partition is no cut at all
        }
        if (startSafe[q]) {
          break;
        }
        tail.writeBytes(scans.get(q).head());
        if (scans.get(q).headRows() < scans.get(q).rows()) {
          break;
        }
      }
      tails[p] = tail.toByteArray();
    }
  }

  /** The tokens of a partition's part of the text: its rows after the first {@code skipRows}, then {@code tail}. */
  private static int[] tokenize(Iterator<String> part, long skipRows, byte[] tail, Tokenizer tokenizer,
      boolean anyCut) {
    IntArray out = new IntArray();
    ByteArrayOutputStream chunk = new ByteArrayOutputStream();
    for (long r = 0; r < skipRows && part.hasNext(); r++) {
      part.next();
    }
    int lastByte = -1;
    while (part.hasNext()) {
      byte[] b = part.next().getBytes(StandardCharsets.UTF_8);
      int first = b.length == 0 ? '\n' : b[0];
      if (chunk.size() >= CHUNK_BYTES && (anyCut || safe(lastByte, first))) {
        out.add(tokenizer.encode(chunk.toByteArray()));
        chunk.reset();
      }
      chunk.writeBytes(b);
      chunk.write('\n');
      lastByte = b.length == 0 ? '\n' : b[b.length - 1];
    }
    chunk.writeBytes(tail);
    out.add(tokenizer.encode(chunk.toByteArray()));
    return out.toArray();
  }

  /** Whether a cut between a line ending in {@code lastByte} and one starting with {@code firstByte} is safe. */
  private static boolean safe(int lastByte, int firstByte) {
    return FileTokens.printable((byte) lastByte) && FileTokens.printable((byte) firstByte);
  }

  /** The first {@code need} tokens of the partitions from {@code from} on (fewer if the text ends). */
  private static int[] borrow(List<int[]> heads, int from, int need) {
    int[] out = new int[need];
    int filled = 0;
    for (int q = from; q < heads.size() && filled < need; q++) {
      int n = Math.min(need - filled, heads.get(q).length);
      System.arraycopy(heads.get(q), 0, out, filled, n);
      filled += n;
    }
    return filled == need ? out : Arrays.copyOf(out, filled);
  }

  private static long[] prefix(long[] counts) {
    long[] out = new long[counts.length];
    for (int p = 1; p < counts.length; p++) {
      out[p] = out[p - 1] + counts[p - 1];
    }
    return out;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** A growable int array. */
  private static final class IntArray {
    private final List<int[]> parts = new ArrayList<>();
    private long size;

    void add(int[] a) {
      parts.add(a);
      size += a.length;
    }

    int[] toArray() {
      int[] out = new int[Math.toIntExact(size)];
      int at = 0;
      for (int[] a : parts) {
        System.arraycopy(a, 0, out, at, a.length);
        at += a.length;
      }
      return out;
    }
  }
}
