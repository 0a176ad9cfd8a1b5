// TableCorpusTest: a text column gives exactly the sequences CorpusLoader gives for a text file of
// the same lines, with both tokenizers and partitionings whose edges fall on unsafe cuts (blank
// lines, trailing spaces, empty partitions); nulls are refused before tokenizing. One local
// SparkSession (Kryo, registration required) for the class. Test code only.
package org.ringtrain.driver.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.ringtrain.driver.train.LocalSpark;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TableCorpusTest {
  private static final int T = 8;
  private static final StructType SCHEMA = new StructType().add("text", DataTypes.StringType, true);
  private static JavaSparkContext sc;
  private static SparkSession spark;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startSpark() {
    sc = LocalSpark.start("local[2]", "TableCorpusTest");
    spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.stop();
    }
  }

  /** Lines with every kind of edge: blank runs, trailing and leading spaces, non-ASCII text, a long line. */
  private static List<String> lines() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      out.add("Line " + i + " of the whale's tale, où la mer se brise.");
      if (i % 7 == 3) {
        out.add("");
        out.add("");
        out.add("");
      }
      if (i % 5 == 1) {
        out.add("trailing space ");
        out.add("  leading spaces");
      }
    }
    out.add("x".repeat(300));
    return out;
  }

  private Dataset<Row> frame(List<String> lines, int partitions) {
    // Rows are made in the tasks: parallelize keeps the lines' order across partitions.
    return spark.createDataFrame(sc.parallelize(lines, partitions).map(RowFactory::create), SCHEMA);
  }

  private static List<int[]> collect(JavaRDD<int[]> rdd) {
    return new ArrayList<>(rdd.collect());
  }

  @ParameterizedTest(name = "{0} tokenizer, {1} partitions")
  @CsvSource({"byte, 3", "gpt2, 9", "gpt2, 40"})
  void aTextColumnGivesTheSequencesOfTheTextFileOfItsLines(String tokenizer, int partitions) throws IOException {
    List<String> lines = lines();
    Path file = tmp.resolve("lines.txt");
    Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    DatasetSpec spec = new DatasetSpec(file.toUri().toString(), DatasetSpec.Format.TEXT, tokenizer, T, 0.1, 2);
    TrainingData fromFile = CorpusLoader.load(sc, spec);
    TrainingData fromTable = TableCorpus.load(frame(lines, partitions), "text", spec);
    try {
      assertEquals(fromFile.trainSequences(), fromTable.trainSequences());
      assertEquals(fromFile.corpusTokens(), fromTable.corpusTokens());
      assertEquals(fromFile.validationPerRank(), fromTable.validationPerRank());
      List<int[]> a = collect(fromFile.train());
      List<int[]> b = collect(fromTable.train());
      assertEquals(a.size(), b.size());
      for (int i = 0; i < a.size(); i++) {
        assertArrayEquals(a.get(i), b.get(i), "training sequence " + i);
      }
      assertEquals(2, fromTable.validation().getNumPartitions());
      List<int[]> va = collect(fromFile.validation());
      List<int[]> vb = collect(fromTable.validation());
      for (int i = 0; i < va.size(); i++) {
        assertArrayEquals(va.get(i), vb.get(i), "validation sequence " + i);
      }
    } finally {
      fromFile.unpersist();
      fromTable.unpersist();
    }
  }

  @Test
  void aNullTextIsRefusedWithItsPlace() {
    List<String> lines = new ArrayList<>(lines());
    lines.set(5, null);
    DatasetSpec spec = new DatasetSpec("table", DatasetSpec.Format.TEXT, "byte", T, 0.1, 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TableCorpus.load(frame(lines, 1), "text", spec));
    assertTrue(e.getMessage().contains("holds 1 null value(s), the first in partition 0 at row 5"), e.getMessage());
  }

  @Test
  void aMissingOrNonStringColumnIsRefused() {
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> TableCorpus.requireTextColumn(SCHEMA, "body"));
    assertTrue(missing.getMessage().contains("no column 'body'") && missing.getMessage().contains("found the columns"
        + " text"), missing.getMessage());
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
        () -> TableCorpus.requireTextColumn(new StructType().add("text", DataTypes.IntegerType), "text"));
    assertTrue(type.getMessage().contains("must hold text (string), but found int"), type.getMessage());
  }
}
