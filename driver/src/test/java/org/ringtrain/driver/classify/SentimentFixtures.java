// Test fixtures for the text classifier: a local[2] SparkSession configured as
// conf/spark-defaults.conf does (Kryo, registration required), the shipped
// sentiment corpus tokenised by MLlib stages, and small hand-made frames.
// Test code only.
package org.ringtrain.driver.classify;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

final class SentimentFixtures {

  private SentimentFixtures() {
  }

  static SparkSession spark(String name) {
    return SparkSession.builder().master("local[2,4]").appName(name)
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .config("spark.kryo.registrator", "org.ringtrain.driver.serde.RingtrainKryoRegistrator")
        .config("spark.kryo.registrationRequired", "true")
        .getOrCreate();
  }

  /** data/sentiment/sentences.jsonl: text, label, source. */
  static Dataset<Row> corpus(SparkSession spark) {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isRegularFile(p.resolve("data/sentiment/sentences.jsonl"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no data/sentiment/sentences.jsonl above " + Path.of("").toAbsolutePath());
    }
    return spark.read().json(p.resolve("data/sentiment/sentences.jsonl").toString());
  }

  /** A frame of (tokens array<string>, label double) rows. */
  static Dataset<Row> tokenRows(SparkSession spark, List<Row> rows) {
    StructType schema = new StructType()
        .add("tokens", DataTypes.createArrayType(DataTypes.StringType, true), true)
        .add("label", DataTypes.DoubleType, true);
    return spark.createDataFrame(rows, schema);
  }

  static Row row(double label, String... tokens) {
    return RowFactory.create(tokens == null ? null : List.of(tokens), label);
  }
}
