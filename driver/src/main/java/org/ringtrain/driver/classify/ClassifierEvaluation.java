// The figures a text classifier is judged by, computed with MLlib's own
// evaluators (accuracy and weighted F1 from MulticlassClassificationEvaluator,
// area under ROC from BinaryClassificationEvaluator for two classes) plus the
// confusion matrix, from a frame of predictions.
package org.ringtrain.driver.classify;

import static org.apache.spark.sql.functions.col;

import java.util.List;
import java.util.Locale;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/**
 * Held-out metrics of a classifier.
 *
 * @param rows      rows evaluated
 * @param accuracy  share of correct predictions
 * @param f1        F1 weighted by class support
 * @param auc       area under the ROC curve (two classes; NaN otherwise)
 * @param majority  accuracy of always predicting the most frequent class, the baseline to beat
 * @param confusion {@code confusion[label][prediction]} counts
 */
public record ClassifierEvaluation(long rows, double accuracy, double f1, double auc, double majority,
    long[][] confusion) {

  /** Evaluates {@code predictions} (labels in {@code labelCol}, the model's default output columns). */
  public static ClassifierEvaluation of(Dataset<Row> predictions, String labelCol, int numClasses) {
    Dataset<Row> p = predictions.withColumn(labelCol, col(labelCol).cast(DataTypes.DoubleType));
    MulticlassClassificationEvaluator multi = new MulticlassClassificationEvaluator().setLabelCol(labelCol);
    double accuracy = multi.setMetricName("accuracy").evaluate(p);
    double f1 = multi.setMetricName("f1").evaluate(p);
    double auc = numClasses == 2 ? new BinaryClassificationEvaluator().setLabelCol(labelCol)
        .setRawPredictionCol("probability").setMetricName("areaUnderROC").evaluate(p) : Double.NaN;
    long[][] confusion = new long[numClasses][numClasses];
    long rows = 0;
    List<Row> counts = p.groupBy(col(labelCol), col("prediction")).count().collectAsList();
    long[] perLabel = new long[numClasses];
    for (Row r : counts) {
      int label = (int) r.getDouble(0);
      int predicted = (int) r.getDouble(1);
      confusion[label][predicted] += r.getLong(2);
      perLabel[label] += r.getLong(2);
      rows += r.getLong(2);
    }
    long most = 0;
    for (long n : perLabel) {
      most = Math.max(most, n);
    }
    return new ClassifierEvaluation(rows, accuracy, f1, auc, rows == 0 ? Double.NaN : most / (double) rows, confusion);
  }

  /** A few lines of text: the metrics, then the confusion matrix with labels down and predictions across. */
  public String format() {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
        "rows %d%naccuracy %.4f (majority baseline %.4f)%nf1 %.4f%n", rows, accuracy, majority, f1));
    if (!Double.isNaN(auc)) {
      s.append(String.format(Locale.ROOT, "areaUnderROC %.4f%n", auc));
    }
    s.append("confusion matrix (rows: label, columns: prediction)\n        ");
    for (int k = 0; k < confusion.length; k++) {
      s.append(String.format(Locale.ROOT, "%8d", k));
    }
    s.append('\n');
    for (int label = 0; label < confusion.length; label++) {
      s.append(String.format(Locale.ROOT, "%8d", label));
      for (long n : confusion[label]) {
        s.append(String.format(Locale.ROOT, "%8d", n));
      }
      s.append('\n');
    }
    return s.toString();
  }
}
