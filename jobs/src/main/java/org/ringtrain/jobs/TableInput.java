// Reads the jobs' tabular inputs (CSV with a header, JSON lines, Parquet) into a
// DataFrame, choosing the reader from --format or the file extension, and
// checks the named columns exist before any work is done.
package org.ringtrain.jobs;

import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** CSV / JSON / Parquet input of the classifier jobs. */
final class TableInput {

  private TableInput() {
  }

  /** {@code format} if given (csv, json, parquet), else from the extension of {@code path}. */
  static String formatOf(String path, String format) {
    String f = format != null ? format.toLowerCase(Locale.ROOT)
        : path.toLowerCase(Locale.ROOT).replaceAll(".*\\.", "");
    return switch (f) {
      case "csv", "tsv" -> "csv";
      case "json", "jsonl", "ndjson" -> "json";
      case "parquet" -> "parquet";
      default -> throw new IllegalArgumentException("cannot tell the format of " + path + " (" + f + "); pass"
          + " --format csv, json or parquet");
    };
  }

  /** Reads {@code path} and requires {@code columns} to exist. */
  static Dataset<Row> read(SparkSession spark, String path, String format, List<String> columns) {
    String f = formatOf(path, format);
    DataFrameReader reader = spark.read().format(f);
    if ("csv".equals(f)) {
      reader = reader.option("header", "true").option("inferSchema", "true").option("multiLine", "true")
          .option("escape", "\"").option("sep", path.toLowerCase(Locale.ROOT).endsWith(".tsv") ? "\t" : ",");
    }
    Dataset<Row> data = reader.load(path);
    for (String c : columns) {
      if (!List.of(data.columns()).contains(c)) {
        throw new IllegalArgumentException("input " + path + " has no column '" + c + "'; it has "
            + String.join(", ", data.columns()) + " (choose the columns with --text-col / --label-col)");
      }
    }
    return data;
  }
}
