// The text classifier's input checks and encoding: one Spark aggregation finds
// every kind of bad row (null or empty token arrays, missing or non-integral or
// negative labels) before any training or writing starts, and the encoder turns
// a (tokens, label) row into the fixed-width int row the trainer deals to ranks.
package org.ringtrain.driver.classify;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Validates and encodes labelled token rows. */
final class TrainingRows {

  private TrainingRows() {
  }

  /** What the checking pass found: the row count and the number of classes (max label + 1). */
  record Summary(long rows, int numClasses) {
  }

  /** Requires {@code name} to be an array of strings in {@code schema}. */
  static void requireTokens(StructType schema, String name) {
    DataType type = field(schema, name).dataType();
    if (!(type instanceof ArrayType a) || !a.elementType().equals(DataTypes.StringType)) {
      throw new IllegalArgumentException("column " + name + " must be array<string> (tokens), but found "
          + type.simpleString() + "; put a Tokenizer or RegexTokenizer (and StopWordsRemover) before the classifier");
    }
  }

  /** Requires {@code name} to be numeric in {@code schema}. */
  static void requireLabel(StructType schema, String name) {
    DataType type = field(schema, name).dataType();
    if (!(type instanceof NumericType)) {
      throw new IllegalArgumentException("label column " + name + " must be numeric (0, 1, ... k-1), but found "
          + type.simpleString() + "; index string labels with MLlib's StringIndexer first");
    }
  }

  static StructField field(StructType schema, String name) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException("column '" + name + "' does not exist; the input has columns "
        + String.join(", ", schema.fieldNames()) + ". Set the column with setInputCol/setLabelCol");
  }

  /**
   * Checks every row in one pass and returns the summary.
   *
   * @throws IllegalArgumentException naming how many rows are bad and how, with the fix
   */
  static Summary check(Dataset<?> data, String tokensCol, String labelCol, int numClassesParam) {
    Column tokens = col(tokensCol);
    Column label = col(labelCol).cast(DataTypes.DoubleType);
    Row r = data.agg(
        count(org.apache.spark.sql.functions.lit(1)),
        sum(when(tokens.isNull(), 1).otherwise(0)),
        sum(when(tokens.isNotNull().and(size(tokens).equalTo(0)), 1).otherwise(0)),
        sum(when(label.isNull().or(label.isNaN()), 1).otherwise(0)),
        sum(when(label.isNotNull().and(label.notEqual(floor(label))), 1).otherwise(0)),
        min(label), max(label), countDistinct(label)).first();
    long rows = r.getLong(0);
    if (rows == 0) {
      throw new IllegalArgumentException("the training data has no rows");
    }
    require(nz(r, 1) == 0, nz(r, 1) + " of " + rows + " rows have a null " + tokensCol
        + " (null text?); drop them first, e.g. data.na().drop(new String[] {\"text\"})");
    require(nz(r, 2) == 0, nz(r, 2) + " of " + rows + " rows have an empty " + tokensCol
        + " (no tokens left after tokenising and stop-word removal); filter them out, e.g. "
        + "data.filter(functions.size(functions.col(\"" + tokensCol + "\")).gt(0))");
    require(nz(r, 3) == 0, nz(r, 3) + " of " + rows + " rows have a null or NaN " + labelCol + "; drop them first");
    require(nz(r, 4) == 0, nz(r, 4) + " of " + rows + " rows have a non-integral " + labelCol
        + "; labels must be class indices 0, 1, ... k-1 (use StringIndexer for other labels)");
    double lo = r.getDouble(5);
    double hi = r.getDouble(6);
    require(lo >= 0, labelCol + " has negative values (min " + lo + "); labels must be 0, 1, ... k-1");
    int k = numClassesParam > 0 ? numClassesParam : (int) hi + 1;
    require(hi < k, labelCol + " has values up to " + (long) hi + " but numClasses is " + k
        + "; labels must be in 0.." + (k - 1) + " (raise numClasses or fix the labels)");
    require(r.getLong(7) >= 2, "the training data has only one class (label " + (long) hi + "); a classifier"
        + " needs examples of at least 2 classes: check the label column and the filters before it");
    return new Summary(rows, k);
  }

  /** Rows of {@code maxLen} token ids (padded, truncated) followed by the label. */
  static JavaRDD<int[]> encode(Dataset<?> data, String tokensCol, String labelCol, Broadcast<Vocabulary> vocab,
      int maxLen) {
    return data.select(col(tokensCol), col(labelCol).cast(DataTypes.IntegerType)).toJavaRDD().map(row -> {
      int[] out = new int[maxLen + 1];
      List<String> tokens = row.getList(0);
      vocab.value().encode(tokens, maxLen, out, 0);
      out[maxLen] = row.getInt(1);
      return out;
    });
  }

  private static long nz(Row r, int i) {
    return r.isNullAt(i) ? 0 : r.getLong(i);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("invalid training data: " + message);
    }
  }
}
