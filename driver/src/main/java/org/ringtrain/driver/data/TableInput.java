// Reads the jobs' tabular inputs (CSV with a header, JSON lines, Parquet)
// into a DataFrame, choosing the reader from --format or the file extension, and
// checks the named columns exist before any work is done. It does not convert or
// clean columns: that is the caller's (TrainClassifierJob, ClassifyJob, GptTableTraining).
package org.ringtrain.driver.data;

import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** CSV / JSON / Parquet input of the classifier jobs and of GPT training on a text column. */
public final class TableInput {

  private TableInput() {
  }

  /**
   * {@code format} if given (csv, json, parquet), else from the extension of {@code path}: csv and
   * tsv are csv; json, jsonl and ndjson are json; parquet is parquet.
   *
   * @return Spark's name of the format: csv, json or parquet
   * @throws IllegalArgumentException for any other format or extension
   */
  public static String formatOf(String path, String format) {
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

  /**
   * Reads {@code path} in {@link #formatOf its format} (CSV: a header row, inferred types, quoted
   * fields may span lines; tab-separated for .tsv) and requires {@code columns} to exist.
   *
   * @throws IllegalArgumentException for an unknown format or a missing column, naming the columns found
   */
  public static Dataset<Row> read(SparkSession spark, String path, String format, List<String> columns) {
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
